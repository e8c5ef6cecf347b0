/**
 * The agent as a KĀDI tool provider: the tools it registers with `kadi.agent.register` so other
 * agents can chat with it and use its memory.
 */
import { randomUUID } from "node:crypto";
import * as z from "zod";
import {
  describeInputIssues,
  inputJsonSchema,
  MEMORY_TOOL_FIELDS,
  readKnowledgeEntry,
  searchArchivedSummaries,
  storeKnowledgeEntry,
} from "../agent/memory-actions";
import type { ChatJob } from "../chat/job";
import type { ReplyRecord } from "../chat/turn";
import { REMOTE_PLATFORMS } from "../constants/platforms";
import { describeModelNames, resolveModel } from "../llm/models";
import { type KnowledgeStore, KnowledgeValidationError } from "../memory/knowledge";
import type { LongTermIndex } from "../memory/long-term/types";
import { KadiError } from "./errors";
import type { KadiToolDefinition } from "./types";

// Not `web`: the local console's conversations are not another agent's to read or write.
const platform = z
  .enum(REMOTE_PLATFORMS)
  .default("slack")
  .describe(
    "Platform the user id and channel id belong to; memory is kept per platform. Default slack.",
  );

/** Input of the `chat` tool. */
export const chatToolInput = z.object({
  userId: z.string().min(1).max(128).describe("Platform user id of the person talking"),
  channelId: z.string().min(1).max(128).describe("Channel id; memory is per user and channel"),
  text: z.string().trim().min(1).max(40_000).describe("The user's message"),
  model: z
    .string()
    .refine((m) => resolveModel(m) !== undefined, {
      error: `must be ${describeModelNames()}`,
    })
    .optional()
    .describe("Model id or alias for this turn; default the user's preference, then the default"),
  platform,
});

/** Input of the `memory_search` tool. */
export const memorySearchToolInput = z.object({
  userId: z.string().min(1).max(128).describe("Whose archived conversations to search"),
  query: MEMORY_TOOL_FIELDS.query,
  limit: MEMORY_TOOL_FIELDS.limit,
  platform,
});

/** Input of the `memory_store_knowledge` tool. */
export const storeKnowledgeToolInput = z.object({
  key: MEMORY_TOOL_FIELDS.knowledgeKey.describe("Entry name; an existing entry is replaced"),
  value: MEMORY_TOOL_FIELDS.knowledgeValue,
  author: z.string().max(256).optional().describe("Who wrote it, e.g. the calling agent's name"),
});

/** Input of the `memory_get_knowledge` tool. */
export const getKnowledgeToolInput = z.object({
  key: MEMORY_TOOL_FIELDS.knowledgeKey.describe("Entry name"),
});

/** What the tools need; built once per listener session. */
export interface KadiToolDeps {
  /**
   * Runs one chat turn (`createChatTurn`): the tools pass jobs with `reply.via: "inline"`,
   * so nothing is posted and the answer comes back in the {@link ReplyRecord}.
   */
  runTurn: (job: ChatJob) => Promise<ReplyRecord>;
  /** Long-term search backend; when absent `memory_search` answers a tool error. */
  longTerm?: LongTermIndex | undefined;
  knowledge: KnowledgeStore;
  /** Epoch milliseconds. */
  now: () => number;
  /**
   * `KADI_TRUSTED_AGENTS`: `"*"` serves the {@link MEMORY_READING_TOOLS} to every agent on the
   * broker's networks; unset leaves them out (not registered, so not answered either).
   */
  trustedAgents?: string | undefined;
}

/**
 * The tools that read a person's archived memory given only their user id: `memory_search`
 * returns it and `chat` answers from it (storing the turn in that person's conversation). The
 * broker forwards `kadi.ability.request` to the provider as `{toolName, toolInput}` alone,
 * without the caller's agent id or key, so no caller can be told from another: these are served
 * to every agent when `KADI_TRUSTED_AGENTS=*`, and to none otherwise. The knowledge tools stay
 * open: the knowledge base holds what agents stored there, no one's conversation, and no turn
 * reads it.
 */
export const MEMORY_READING_TOOLS: readonly string[] = ["chat", "memory_search"];

/**
 * The tool definitions served to other agents (input JSON Schemas generated from the zod
 * schemas above with `z.toJSONSchema`, draft 2020-12):
 * - `chat {userId, channelId, text, model?, platform?}` → `{text, model?, outcome}`: one turn of
 *   the same agent, with the same memory as the user's mentions in that channel (last messages,
 *   preferences, archived summaries); both turns are stored. `platform` (default `slack`)
 *   selects whose memory: conversations are keyed by platform, channel and user. `outcome` is
 *   `answered`, `failed`/`unconfigured` when `text` is our apology, or `over_budget` when the
 *   user's daily token budget is used up (`text` says when it resets; nothing is stored).
 * - `memory_search {userId, query, limit?, platform?}` → `{hits: [{id, channelId, text, score,
 *   createdAt}]}`: that user's archived summaries, best first.
 * - `memory_store_knowledge {key, value, author?}` → `{key, updatedAt}`.
 * - `memory_get_knowledge {key}` → `{found: false, key}` or `{found: true, key, value,
 *   updatedAt, author?}`.
 *
 * Invalid input rejects with `KadiError` kind `invalid_params` (JSON-RPC -32602, naming the
 * field); failures of the stores reject with their own error (JSON-RPC -32000). `chat` and
 * `memory_search` are left out unless `deps.trustedAgents` is `"*"` (see
 * {@link MEMORY_READING_TOOLS}); a call to a tool left out gets -32601 (unknown tool).
 */
export function createKadiTools(deps: KadiToolDeps): KadiToolDefinition[] {
  const trustEveryone = deps.trustedAgents === "*";
  return allTools(deps).filter(
    (tool) => trustEveryone || !MEMORY_READING_TOOLS.includes(tool.name),
  );
}

function allTools(deps: KadiToolDeps): KadiToolDefinition[] {
  return [
    {
      name: "chat",
      description:
        "Ask the chat agent. It answers with the user's conversation memory for that channel " +
        "and returns the reply text.",
      inputSchema: inputJsonSchema(chatToolInput),
      handler: async (raw) => {
        const input = parseInput(chatToolInput, raw);
        const sentAt = deps.now();
        const job: ChatJob = {
          v: 2,
          // A fresh id per call: JSON-RPC ids repeat across broker sessions, and the turn's
          // idempotency layer would answer a repeated id from its cache.
          jobId: `kadi-tool:${randomUUID()}`,
          source: { kind: "kadi-tool" },
          conversation: {
            platform: input.platform,
            channelId: input.channelId,
            userId: input.userId,
          },
          // The turn picks the model from a `[model]` directive, as in a chat message.
          text: input.model ? `[${input.model}] ${input.text}` : input.text,
          sentAt,
          reply: { platform: input.platform, via: "inline", address: {} },
        };
        const reply = await deps.runTurn(job);
        return {
          text: reply.text,
          ...(reply.model ? { model: reply.model } : {}),
          outcome: reply.outcome,
        };
      },
    },
    {
      name: "memory_search",
      description: "Search one user's archived conversation summaries (best match first).",
      inputSchema: inputJsonSchema(memorySearchToolInput),
      handler: async (raw) => {
        const input = parseInput(memorySearchToolInput, raw);
        if (!deps.longTerm) throw new Error("long-term memory is not available on this agent");
        return searchArchivedSummaries(deps.longTerm, {
          platform: input.platform,
          userId: input.userId,
          query: input.query,
          limit: input.limit,
        });
      },
    },
    {
      name: "memory_store_knowledge",
      description: "Store or replace an entry of the agent's shared knowledge base.",
      inputSchema: inputJsonSchema(storeKnowledgeToolInput),
      handler: async (raw) => {
        const input = parseInput(storeKnowledgeToolInput, raw);
        try {
          return await storeKnowledgeEntry(deps.knowledge, {
            key: input.key,
            value: input.value,
            author: input.author ?? "kadi-agent",
          });
        } catch (error) {
          if (error instanceof KnowledgeValidationError) {
            throw new KadiError("invalid_params", error.message, { cause: error });
          }
          throw error;
        }
      },
    },
    {
      name: "memory_get_knowledge",
      description: "Read an entry of the agent's shared knowledge base by key.",
      inputSchema: inputJsonSchema(getKnowledgeToolInput),
      handler: async (raw) => {
        const input = parseInput(getKnowledgeToolInput, raw);
        return readKnowledgeEntry(deps.knowledge, input.key);
      },
    },
  ];
}

/**
 * Validates a tool input.
 * @throws {KadiError} kind `invalid_params`, naming the first bad field.
 */
function parseInput<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  throw new KadiError("invalid_params", `invalid input: ${describeInputIssues(parsed.error)}`, {
    cause: parsed.error,
  });
}
