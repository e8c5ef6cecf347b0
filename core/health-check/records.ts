/**
 * The health check's status records: one item per component in the single table, next to the
 * provider breaker items (`HEALTH#{component}` / `BREAKER`, see `core/llm/breaker-store.ts`), read
 * by the provider manager when routing and by `GET /health?deep=1`.
 */
import { BatchGetCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import type { ProviderCheck, ProviderHealthSource } from "../llm/breaker-policy";
import type { LlmErrorKind, ProviderId } from "../llm/types";

/**
 * Every component the health check can probe, in report order. `anthropic` and
 * `openai-compatible` are the LLM providers (same ids as `ProviderId`); `gateway` is the model
 * gateway's own health route; the queues are the chat and archive queues with their DLQs.
 */
export const HEALTH_COMPONENTS = [
  "anthropic",
  "openai-compatible",
  "gateway",
  "arcadedb",
  "dynamodb",
  "chat-queue",
  "archive-queue",
] as const;

/** One probed component. */
export type HealthComponent = (typeof HEALTH_COMPONENTS)[number];

/** Small, secret-free facts a probe reports (queue depths, HTTP status, table status). */
export type ProbeDetails = Record<string, string | number | boolean>;

/**
 * The latest check of one component, as stored and as served by `GET /health?deep=1`.
 * Never carries secrets: `error` is a message with configured secret values redacted.
 */
export interface HealthRecord {
  component: HealthComponent;
  ok: boolean;
  /** Wall time of the probe in ms (up to the timeout when it timed out). */
  latencyMs: number;
  /** Epoch ms when the probe finished. */
  checkedAt: number;
  /** Why it failed (message only); absent when ok. */
  error?: string;
  /**
   * Failure class of a failed probe: an `LlmErrorKind` for the providers (`auth`, `network`,
   * `timeout`, …), `timeout`, `http` or `error` for the others.
   */
  kind?: string;
  /** Component-specific facts, e.g. `{ depth, inFlight, dlqDepth }` for a queue. */
  details?: ProbeDetails;
}

const recordSchema = z.object({
  component: z.enum(HEALTH_COMPONENTS),
  ok: z.boolean(),
  latencyMs: z.number().nonnegative(),
  checkedAt: z.number(),
  error: z.string().optional(),
  kind: z.string().optional(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

/**
 * Reads a stored item; `undefined` for a missing or malformed one (hand-edited, older
 * schema), which is reported as "never checked" rather than failing the reader.
 */
export function parseHealthItem(
  item: Record<string, unknown> | undefined,
): HealthRecord | undefined {
  if (!item) return undefined;
  const parsed = recordSchema.safeParse(item);
  if (!parsed.success) return undefined;
  const { error, kind, details, ...rest } = parsed.data;
  const out: HealthRecord = { ...rest };
  if (error !== undefined) out.error = error;
  if (kind !== undefined) out.kind = kind;
  if (details !== undefined) out.details = details;
  return out;
}

/** The slice of `DynamoDBDocumentClient` the store uses; a real client satisfies it. */
export interface HealthDocumentClient {
  send(command: GetCommand | PutCommand | BatchGetCommand): Promise<unknown>;
}

/** Constructor options of {@link HealthRecordStore}. */
export interface HealthRecordStoreOptions {
  client: HealthDocumentClient;
  /** The single table (`MEMORY_TABLE_NAME`), keys `pk`/`sk`. */
  tableName: string;
  /**
   * How long a read is reused, in ms (default 5000), like the breaker's cache: the manager
   * asks on turns whose breaker is not closed, and `/health?deep=1` is public.
   */
  cacheMs?: number;
  /** Epoch-ms clock (default `Date.now`). */
  now?: () => number;
}

/** Every `LlmErrorKind`; the `satisfies` keeps it in step with the type. */
const LLM_ERROR_KINDS = {
  auth: true,
  rate_limit: true,
  server: true,
  timeout: true,
  network: true,
  invalid_request: true,
  model_not_found: true,
  unconfigured: true,
  circuit_open: true,
  unknown: true,
} as const satisfies Record<LlmErrorKind, true>;

function isLlmErrorKind(kind: string): kind is LlmErrorKind {
  return Object.hasOwn(LLM_ERROR_KINDS, kind);
}

/** How often a BatchGet's `UnprocessedKeys` are asked for again before giving up. */
const BATCH_GET_ATTEMPTS = 3;

/**
 * Status records in the table: item `{ pk: "HEALTH#{component}", sk: "STATUS", ...record }`,
 * overwritten on each check (last writer wins; checks are minutes apart). Implements the
 * provider manager's `ProviderHealthSource`. Methods reject with the SDK's error when
 * DynamoDB fails.
 */
export class HealthRecordStore implements ProviderHealthSource {
  private readonly client: HealthDocumentClient;
  private readonly tableName: string;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<HealthComponent, { record?: HealthRecord; at: number }>();
  private allCache?: { records: HealthRecord[]; at: number };

  constructor(options: HealthRecordStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.cacheMs = options.cacheMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** Item key of a component's status record. */
  static key(component: HealthComponent): { pk: string; sk: string } {
    return { pk: `HEALTH#${component}`, sk: "STATUS" };
  }

  /** Stores `record`, replacing the previous one; this container's cache sees it at once. */
  async write(record: HealthRecord): Promise<void> {
    this.cache.set(record.component, { record: { ...record }, at: this.now() });
    this.allCache = undefined;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...HealthRecordStore.key(record.component), ...record },
      }),
    );
  }

  /** The latest record of one component, or `undefined` when none (or a malformed one). */
  async read(component: HealthComponent): Promise<HealthRecord | undefined> {
    const nowMs = this.now();
    const cached = this.cache.get(component);
    if (cached && nowMs - cached.at < this.cacheMs) return cached.record && { ...cached.record };
    const out = (await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: HealthRecordStore.key(component) }),
    )) as { Item?: Record<string, unknown> } | undefined;
    const record = parseHealthItem(out?.Item);
    this.cache.set(component, record ? { record, at: nowMs } : { at: nowMs });
    return record && { ...record };
  }

  /**
   * {@link read} narrowed to what routing needs: `ok`, `checkedAt` and, for a failure, its
   * `kind` as an `LlmErrorKind` (provider probes store those; any other stored kind reads as
   * `unknown`, which is how `breakerAfterHealthCheck` treated it).
   */
  async lastCheck(provider: ProviderId): Promise<ProviderCheck | undefined> {
    const record = await this.read(provider);
    if (!record) return undefined;
    const check: ProviderCheck = { ok: record.ok, checkedAt: record.checkedAt };
    if (!record.ok && record.kind !== undefined) {
      check.kind = isLlmErrorKind(record.kind) ? record.kind : "unknown";
    }
    return check;
  }

  /**
   * The latest record of every component that has one, in {@link HEALTH_COMPONENTS} order,
   * with one BatchGet (keys left unprocessed are asked for again, up to 3 rounds).
   *
   * @throws {Error} when DynamoDB keeps keys unprocessed after the last round.
   */
  async readAll(): Promise<HealthRecord[]> {
    const nowMs = this.now();
    if (this.allCache && nowMs - this.allCache.at < this.cacheMs) {
      return this.allCache.records.map((r) => ({ ...r }));
    }
    const found = new Map<HealthComponent, HealthRecord>();
    let keys: Record<string, unknown>[] = HEALTH_COMPONENTS.map((c) => HealthRecordStore.key(c));
    for (let round = 1; keys.length > 0; round++) {
      if (round > BATCH_GET_ATTEMPTS) {
        throw new Error(`BatchGet left ${keys.length} health records unprocessed`);
      }
      const out = (await this.client.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }),
      )) as {
        Responses?: Record<string, Record<string, unknown>[]>;
        UnprocessedKeys?: Record<string, { Keys?: Record<string, unknown>[] }>;
      };
      for (const item of out.Responses?.[this.tableName] ?? []) {
        const record = parseHealthItem(item);
        if (record) found.set(record.component, record);
      }
      keys = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    const records = HEALTH_COMPONENTS.flatMap((c) => {
      const record = found.get(c);
      return record ? [record] : [];
    });
    this.allCache = { records, at: nowMs };
    return records.map((r) => ({ ...r }));
  }
}
