/**
 * Daily token counters in the single table (docs/reliability/spend.md): one per user and UTC
 * day, the base of `USER_DAILY_TOKEN_BUDGET`, and one per provider and UTC day, which
 * `GET /health?deep=1` reports. Counts are the providers' own usage fields as the provider
 * layer reads them into a `Completion` (Anthropic `usage.input_tokens`/`output_tokens`,
 * OpenAI `usage.prompt_tokens`/`completion_tokens`).
 */
import { GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { PROVIDER_IDS, type ProviderId } from "../constants/models";
import { TOKEN_COUNTER_RETENTION_SECONDS } from "../constants/spend";
import {
  type Platform,
  PROVIDER_TOKENS_SK_PREFIX,
  providerTokensPk,
  userTokensKey,
} from "./table/keys";
import { type TableOptions, TTL_ATTRIBUTE } from "./table/table";

/** Whose budget a turn spends: a person on one platform (all their channels together). */
export interface TokenUser {
  platform: Platform;
  userId: string;
}

/** Tokens one completion used, as its provider reported them. */
export interface TokenUsage {
  provider: ProviderId;
  /** Prompt tokens (Anthropic `input_tokens`, OpenAI `prompt_tokens`). */
  inputTokens: number;
  /** Generated tokens (Anthropic `output_tokens`, OpenAI `completion_tokens`). */
  outputTokens: number;
}

/** One provider's tokens over a UTC day. */
export interface ProviderTokens {
  inputTokens: number;
  outputTokens: number;
  /** `inputTokens + outputTokens`. */
  tokens: number;
}

/** Every provider's tokens for the current UTC day, as `GET /health?deep=1` serves them. */
export interface DailyProviderTokens {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** When the counters start again from zero: the next UTC midnight, ISO 8601. */
  resetsAt: string;
  /** Every provider, zero when it answered nothing today; chat turns and summaries together. */
  providers: Record<ProviderId, ProviderTokens>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC day of an epoch-ms instant, `YYYY-MM-DD`. */
export function utcDay(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/** The next UTC midnight after an epoch-ms instant, epoch ms (when a day's budget resets). */
export function nextUtcMidnightMs(nowMs: number): number {
  return (Math.floor(nowMs / DAY_MS) + 1) * DAY_MS;
}

/** A provider's count as a whole number of tokens ≥ 0 (a missing usage field reads as 0). */
function tokenCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function numberAttr(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * The counters: items `USER#{platform}#{userId}` / `TOKENS#{day}` and `TOKENS#{day}` /
 * `PROVIDER#{provider}`, each `{inputTokens, outputTokens, tokens, expiresAt}`. Increments are
 * DynamoDB's atomic `ADD` (concurrent turns never lose a count, no read first); the TTL is the
 * day's end plus `TOKEN_COUNTER_RETENTION_SECONDS`. Every method rejects with the SDK's error
 * when DynamoDB fails.
 */
export class TokenUsageStore {
  private readonly db: TableOptions["client"];
  private readonly tableName: string;
  private readonly now: () => number;
  private readonly cacheMs: number;
  private totalsCache?: { totals: DailyProviderTokens; at: number };

  /**
   * @param options.now - epoch-ms clock that picks the UTC day; default `Date.now`.
   * @param options.cacheMs - how long {@link providerTotals} reuses a read, ms (default 5000):
   *   `/health?deep=1` is public, so a burst of probes costs one Query per window.
   */
  constructor(options: TableOptions & { now?: () => number; cacheMs?: number }) {
    this.db = options.client;
    this.tableName = options.tableName;
    this.now = options.now ?? Date.now;
    this.cacheMs = options.cacheMs ?? 5_000;
  }

  /** Tokens `user` has used today (UTC), read strongly consistent; 0 when none. */
  async userTokens(user: TokenUser): Promise<number> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: userTokensKey(user.platform, user.userId, utcDay(this.now())),
        ProjectionExpression: "tokens",
        ConsistentRead: true,
      }),
    );
    return numberAttr(out.Item?.tokens);
  }

  /**
   * Adds one completion's tokens to today's counter of its provider and, when `user` is
   * given, to that user's (summaries count toward the provider only). The two updates run in
   * parallel; nothing is written for a completion that reported no tokens.
   */
  async add(usage: TokenUsage, user?: TokenUser): Promise<void> {
    const inputTokens = tokenCount(usage.inputTokens);
    const outputTokens = tokenCount(usage.outputTokens);
    if (inputTokens + outputTokens === 0) return;
    const nowMs = this.now();
    const day = utcDay(nowMs);
    const expiresAt = Math.floor(nextUtcMidnightMs(nowMs) / 1000) + TOKEN_COUNTER_RETENTION_SECONDS;
    const increment = (Key: { pk: string; sk: string }) =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: "ADD inputTokens :in, outputTokens :out, tokens :total SET #ttl = :ttl",
          ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ":in": inputTokens,
            ":out": outputTokens,
            ":total": inputTokens + outputTokens,
            ":ttl": expiresAt,
          },
        }),
      );
    const provider = {
      pk: providerTokensPk(day),
      sk: `${PROVIDER_TOKENS_SK_PREFIX}${usage.provider}`,
    };
    await Promise.all([
      increment(provider),
      ...(user ? [increment(userTokensKey(user.platform, user.userId, day))] : []),
    ]);
  }

  /** Today's (UTC) tokens per provider, with one Query (cached for `cacheMs`). */
  async providerTotals(): Promise<DailyProviderTokens> {
    const nowMs = this.now();
    const day = utcDay(nowMs);
    const cached = this.totalsCache;
    if (cached && cached.totals.day === day && nowMs - cached.at < this.cacheMs) {
      return structuredClone(cached.totals);
    }
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: {
          ":pk": providerTokensPk(day),
          ":prefix": PROVIDER_TOKENS_SK_PREFIX,
        },
      }),
    );
    const providers = Object.fromEntries(
      PROVIDER_IDS.map((p) => [p, { inputTokens: 0, outputTokens: 0, tokens: 0 }]),
    ) as Record<ProviderId, ProviderTokens>;
    for (const item of out.Items ?? []) {
      const id = String(item.sk).slice(PROVIDER_TOKENS_SK_PREFIX.length);
      const known = PROVIDER_IDS.find((p) => p === id);
      if (!known) continue;
      providers[known] = {
        inputTokens: numberAttr(item.inputTokens),
        outputTokens: numberAttr(item.outputTokens),
        tokens: numberAttr(item.tokens),
      };
    }
    const totals = { day, resetsAt: new Date(nextUtcMidnightMs(nowMs)).toISOString(), providers };
    this.totalsCache = { totals, at: nowMs };
    return structuredClone(totals);
  }
}
