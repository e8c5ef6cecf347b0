/**
 * Where provider breaker state lives: shared across Lambda containers in the memory table
 * (cached briefly in memory), or in-process. The transitions themselves are
 * `core/resilience/breaker.ts`.
 */
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { type BreakerState, CLOSED } from "../resilience/breaker";
import type { ProviderId } from "./types";

/**
 * Where breaker state lives. Both methods may reject (e.g. DynamoDB unreachable); the
 * provider manager reports that through its `onStoreError` option and carries on with its
 * in-memory copy, because a chat turn must not fail over bookkeeping.
 */
export interface BreakerStore {
  /** Current state; `CLOSED` for a provider never recorded. */
  get(provider: ProviderId): Promise<BreakerState>;
  put(provider: ProviderId, state: BreakerState): Promise<void>;
}

/** Process-local store: for tests, the local stack, and single-container use. */
export class InMemoryBreakerStore implements BreakerStore {
  private readonly states = new Map<ProviderId, BreakerState>();

  async get(provider: ProviderId): Promise<BreakerState> {
    return { ...(this.states.get(provider) ?? CLOSED) };
  }

  async put(provider: ProviderId, state: BreakerState): Promise<void> {
    this.states.set(provider, { ...state });
  }
}

/**
 * The slice of `DynamoDBDocumentClient` this store uses, so tests can pass a fake `send`.
 * A real `DynamoDBDocumentClient` satisfies it.
 */
export interface BreakerDocumentClient {
  send(command: GetCommand | PutCommand): Promise<unknown>;
}

/** Constructor options of {@link DynamoBreakerStore}. */
export interface DynamoBreakerStoreOptions {
  /** Document client built once per container (the composition function owns endpoint/region). */
  client: BreakerDocumentClient;
  /** The single table (`MEMORY_TABLE_NAME`), keys `pk`/`sk`. */
  tableName: string;
  /**
   * How long a read is reused before DynamoDB is asked again, in ms (default 5000). Every chat
   * turn consults the breaker; a few seconds of staleness is harmless next to a 60 s open
   * window and saves a read per call.
   */
  cacheMs?: number;
  /** Epoch-ms clock (default `Date.now`). */
  now?: () => number;
}

/**
 * Breaker state shared across Lambda containers in the memory table: item
 * `{ pk: "HEALTH#<provider>", sk: "BREAKER", state, consecutiveFailures, openedAt?,
 * trialStartedAt?, updatedAt }`. Writes are last-writer-wins: two containers racing can lose
 * one failure count, which only delays opening by a call, so no conditional write is used.
 * `get`/`put` reject with the SDK's error when DynamoDB fails.
 */
export class DynamoBreakerStore implements BreakerStore {
  private readonly client: BreakerDocumentClient;
  private readonly tableName: string;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<ProviderId, { state: BreakerState; at: number }>();

  constructor(options: DynamoBreakerStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.cacheMs = options.cacheMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** Item key of a provider's breaker. */
  static key(provider: ProviderId): { pk: string; sk: string } {
    return { pk: `HEALTH#${provider}`, sk: "BREAKER" };
  }

  async get(provider: ProviderId): Promise<BreakerState> {
    const nowMs = this.now();
    const cached = this.cache.get(provider);
    if (cached && nowMs - cached.at < this.cacheMs) return { ...cached.state };
    const out = (await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: DynamoBreakerStore.key(provider) }),
    )) as { Item?: Record<string, unknown> } | undefined;
    const state = parseBreakerItem(out?.Item);
    this.cache.set(provider, { state, at: nowMs });
    return { ...state };
  }

  async put(provider: ProviderId, state: BreakerState): Promise<void> {
    // Cache first: if the write fails this container still acts on what it just learned.
    this.cache.set(provider, { state: { ...state }, at: this.now() });
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...DynamoBreakerStore.key(provider), ...state, updatedAt: this.now() },
      }),
    );
  }
}

/**
 * Reads a stored breaker item defensively: a missing or malformed item (hand-edited, older
 * schema) reads as `CLOSED`, since failing open toward trying the provider is safer than
 * refusing it on bad data.
 */
export function parseBreakerItem(item: Record<string, unknown> | undefined): BreakerState {
  if (!item) return { ...CLOSED };
  const { state, consecutiveFailures, openedAt, trialStartedAt } = item;
  if (state !== "closed" && state !== "open" && state !== "half-open") return { ...CLOSED };
  const out: BreakerState = {
    state,
    consecutiveFailures:
      typeof consecutiveFailures === "number" && consecutiveFailures >= 0 ? consecutiveFailures : 0,
  };
  if (typeof openedAt === "number") out.openedAt = openedAt;
  if (typeof trialStartedAt === "number") out.trialStartedAt = trialStartedAt;
  if (state !== "closed" && out.openedAt === undefined) return { ...CLOSED };
  return out;
}
