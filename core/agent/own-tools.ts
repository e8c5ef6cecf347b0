/**
 * The agent's own tools, offered to the model in every turn: the asking person's archived
 * memory and preferences, and the shared knowledge base. Memory search and the knowledge base
 * run the same code as the agent's KĀDI tools (`./memory-actions`); unlike those, the user is
 * never an input: it is the turn's own conversation (`ToolContext.conversation`), so the model
 * can only read and change the memory of the person it is talking to.
 */
import * as z from "zod";
import { PREFERENCE_RULES } from "../constants/agent";
import { describeModelNames, resolveModel } from "../constants/models";
import { type KnowledgeStore, KnowledgeValidationError } from "../memory/knowledge";
import type { LongTermIndex } from "../memory/long-term/types";
import type { PreferenceStore } from "../memory/preferences";
import {
  describeInputIssues,
  inputJsonSchema,
  MEMORY_TOOL_FIELDS,
  readKnowledgeEntry,
  searchArchivedSummaries,
  storeKnowledgeEntry,
} from "./memory-actions";
import { type AgentTool, type ToolContext, ToolError } from "./types";

/** What the own tools need; built once per container. */
export interface OwnToolDeps {
  /** Long-term search backend; when absent `search_memory` fails as `unavailable`. */
  longTerm?: LongTermIndex | undefined;
  preferences: PreferenceStore;
  knowledge: KnowledgeStore;
}

const preferenceKey = z
  .string()
  .trim()
  .regex(
    PREFERENCE_RULES.keyPattern,
    "must be a lower-case word of at most 64 characters (a-z, 0-9, _ . -)",
  )
  .describe("Preference name, e.g. model, language, timezone");

/** Input of `search_memory`. */
export const searchMemoryInput = z.object({
  query: MEMORY_TOOL_FIELDS.query,
  limit: MEMORY_TOOL_FIELDS.limit,
});

/** Input of `remember_preference`; a `model` value must name a model the agent can route. */
export const rememberPreferenceInput = z
  .object({
    key: preferenceKey,
    value: z
      .string()
      .trim()
      .min(1)
      .max(PREFERENCE_RULES.valueMaxChars)
      .describe("The value, short text; for model: a model id or alias"),
  })
  .refine((input) => input.key !== "model" || resolveModel(input.value) !== undefined, {
    path: ["value"],
    error: `a model preference must be ${describeModelNames()}`,
  });

/** Input of `forget_preference`. */
export const forgetPreferenceInput = z.object({ key: preferenceKey });

/** Input of `store_knowledge`. */
export const storeKnowledgeInput = z.object({
  key: MEMORY_TOOL_FIELDS.knowledgeKey.describe("Entry name; an existing entry is replaced"),
  value: MEMORY_TOOL_FIELDS.knowledgeValue,
});

/** Input of `get_knowledge`. */
export const getKnowledgeInput = z.object({
  key: MEMORY_TOOL_FIELDS.knowledgeKey.describe("Entry name"),
});

/**
 * The agent's own tools (`source: "agent"`, never waiting for approval):
 * - `search_memory {query, limit?}` → `{hits: [{id, channelId, text, score, createdAt}]}`: this
 *   person's archived conversation summaries on this platform, best first;
 * - `remember_preference {key, value}` → `{key, stored: true}`; `forget_preference {key}` →
 *   `{key, forgotten: true}` (forgetting an absent key is not an error). `model` sets the
 *   person's default model;
 * - `store_knowledge {key, value}` → `{key, updatedAt}` (author `{platform}:{userId}`);
 *   `get_knowledge {key}` → `{found: false, key}` or `{found: true, key, value, updatedAt,
 *   author?}`.
 *
 * Every `run` rejects with {@link ToolError}: `invalid_input` naming the field, `unavailable`
 * when a store or the search index fails (the cause chained).
 */
export function createOwnTools(deps: OwnToolDeps): AgentTool[] {
  return [
    ownTool({
      name: "search_memory",
      label: "memory search",
      description:
        "Search the archived summaries of your earlier conversations with this person " +
        "(best match first). Use it when they refer to something discussed before.",
      schema: searchMemoryInput,
      run: async (input, ctx) => {
        if (!deps.longTerm) {
          throw new ToolError("unavailable", "long-term memory is not available on this agent");
        }
        const { platform, userId } = ctx.conversation;
        return searchArchivedSummaries(deps.longTerm, { platform, userId, ...input });
      },
    }),
    ownTool({
      name: "remember_preference",
      label: "remembering a preference",
      description:
        "Remember a preference of this person for later conversations (e.g. key model with a " +
        "model id, or language, timezone). Replaces an earlier value of the same key.",
      schema: rememberPreferenceInput,
      run: async ({ key, value }, ctx) => {
        const { platform, userId } = ctx.conversation;
        await deps.preferences.put(platform, userId, key, value);
        return { key, stored: true };
      },
    }),
    ownTool({
      name: "forget_preference",
      label: "forgetting a preference",
      description: "Forget one preference of this person by its key.",
      schema: forgetPreferenceInput,
      run: async ({ key }, ctx) => {
        const { platform, userId } = ctx.conversation;
        await deps.preferences.delete(platform, userId, key);
        return { key, forgotten: true };
      },
    }),
    ownTool({
      name: "store_knowledge",
      label: "storing knowledge",
      description:
        "Store or replace an entry of the knowledge base shared by everyone who talks to " +
        "this agent (and by other agents). Never store secrets or personal data there.",
      schema: storeKnowledgeInput,
      run: async ({ key, value }, ctx) => {
        const { platform, userId } = ctx.conversation;
        try {
          return await storeKnowledgeEntry(deps.knowledge, {
            key,
            value,
            author: `${platform}:${userId}`,
          });
        } catch (error) {
          if (error instanceof KnowledgeValidationError) {
            throw new ToolError("invalid_input", error.message, { cause: error });
          }
          throw error;
        }
      },
    }),
    ownTool({
      name: "get_knowledge",
      label: "reading knowledge",
      description: "Read an entry of the shared knowledge base by its key.",
      schema: getKnowledgeInput,
      run: ({ key }) => readKnowledgeEntry(deps.knowledge, key),
    }),
  ];
}

/** An {@link AgentTool} that validates its input with `schema` and maps store failures. */
function ownTool<T extends z.ZodType<Record<string, unknown>>>(spec: {
  name: string;
  label: string;
  description: string;
  schema: T;
  run: (input: z.output<T>, ctx: ToolContext) => Promise<unknown>;
}): AgentTool {
  return {
    name: spec.name,
    description: spec.description,
    inputSchema: inputJsonSchema(spec.schema),
    source: "agent",
    needsApproval: false,
    label: spec.label,
    run: async (raw, ctx) => {
      const parsed = spec.schema.safeParse(raw ?? {});
      if (!parsed.success) {
        throw new ToolError(
          "invalid_input",
          `invalid input: ${describeInputIssues(parsed.error)}`,
          {
            cause: parsed.error,
          },
        );
      }
      try {
        return await spec.run(parsed.data, ctx);
      } catch (error) {
        if (error instanceof ToolError) throw error;
        throw new ToolError("unavailable", `${spec.name} failed: memory could not be reached`, {
          cause: error,
        });
      }
    },
  };
}
