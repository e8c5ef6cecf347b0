/**
 * The memory operations both tool surfaces run: the agent's own tools (`./own-tools`, offered to
 * the model) and the agent's KĀDI tools (`core/kadi/tools.ts`, served to other agents). One
 * implementation, so a memory search or a knowledge entry reads the same whichever way it was
 * asked for. Input validation stays with each surface (they differ in who names the user); the
 * field schemas they share are here.
 */
import * as z from "zod";
import type { KnowledgeStore } from "../memory/knowledge";
import type { LongTermIndex } from "../memory/long-term/types";
import type { Platform } from "../memory/table/keys";

/** Zod schemas of the fields the memory tools of both surfaces take. */
export const MEMORY_TOOL_FIELDS = {
  query: z.string().trim().min(1).max(2_000).describe("Free-text query (BM25 relevance)"),
  limit: z.number().int().min(1).max(20).default(5).describe("Most hits to return, default 5"),
  knowledgeKey: z.string().trim().min(1).max(512),
  knowledgeValue: z.string().describe("Entry text, at most 64 KiB of UTF-8"),
} as const;

/** One hit of {@link searchArchivedSummaries}. `createdAt` is epoch ms. */
export interface MemoryHit {
  id: string;
  channelId: string;
  text: string;
  score: number;
  createdAt: number;
}

/**
 * One user's archived conversation summaries best matching `query`, best first.
 * @throws the index's own error when the backend fails.
 */
export async function searchArchivedSummaries(
  longTerm: LongTermIndex,
  search: { platform: Platform; userId: string; query: string; limit: number },
): Promise<{ hits: MemoryHit[] }> {
  const hits = await longTerm.search({
    platform: search.platform,
    userId: search.userId,
    text: search.query,
    limit: search.limit,
  });
  return {
    hits: hits.map(({ summary, score }) => ({
      id: summary.id,
      channelId: summary.channelId,
      text: summary.text,
      score,
      createdAt: summary.createdAt,
    })),
  };
}

/**
 * Stores or replaces a knowledge entry → `{key, updatedAt}` (epoch ms).
 * @throws {KnowledgeValidationError} for an empty key or a value over 64 KiB; the store's error
 *   when DynamoDB fails.
 */
export async function storeKnowledgeEntry(
  knowledge: KnowledgeStore,
  entry: { key: string; value: string; author: string },
): Promise<{ key: string; updatedAt: number }> {
  const stored = await knowledge.put(entry);
  return { key: stored.key, updatedAt: stored.updatedAt };
}

/**
 * A knowledge entry → `{found: false, key}` or `{found: true, key, value, updatedAt, author?}`.
 * @throws the store's error when DynamoDB fails.
 */
export async function readKnowledgeEntry(
  knowledge: KnowledgeStore,
  key: string,
): Promise<
  | { found: false; key: string }
  | { found: true; key: string; value: string; updatedAt: number; author?: string }
> {
  const entry = await knowledge.get(key);
  return entry ? { found: true, ...entry } : { found: false, key };
}

/** JSON Schema (draft 2020-12) of what a caller sends to `schema` (defaults make fields optional). */
export function inputJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input" }) as Record<
    string,
    unknown
  >;
  return rest;
}

/** `field: message; …` of every issue of a failed parse (paths and zod messages, never values). */
export function describeInputIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`)
    .join("; ");
}
