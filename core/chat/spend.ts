/**
 * The spending decision of a chat turn (docs/reliability/spend.md): whether a person still has
 * tokens left today under `USER_DAILY_TOKEN_BUDGET`, and the accounting of every completion
 * (daily counters in the table, one EMF metric line per completion).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Completer, Completion } from "../llm/types";
import { nextUtcMidnightMs, type TokenUsageStore, type TokenUser } from "../memory/token-usage";

/**
 * The slice of Powertools `Metrics` the accounting uses; a `Metrics` instance satisfies it.
 * Each publish writes one EMF JSON line to stdout, which CloudWatch turns into metrics
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 */
export type TokenMetricsPublisher = Pick<
  Metrics,
  "addDimension" | "addMetric" | "publishStoredMetrics"
>;

/** Dimension naming the provider on the token metrics (next to Powertools' `service`). */
export const PROVIDER_DIMENSION = "provider";

/** Dependencies of {@link createSpend}. */
export interface SpendDeps {
  /** The daily counters (`TokenUsageStore`). */
  usage: Pick<TokenUsageStore, "userTokens" | "add">;
  /**
   * `USER_DAILY_TOKEN_BUDGET`: tokens (input + output) one user may use per UTC day. Absent:
   * no limit, and the check reads nothing.
   */
  dailyBudget?: number | undefined;
  /** Where the per-completion token metrics go; absent where nothing collects EMF (locally). */
  metrics?: TokenMetricsPublisher | undefined;
  logger: Logger;
  /** Epoch-ms clock, for the reset time in the refusal. */
  now: () => number;
}

/** The budget check and the accounting, as the chat turn and the archiver use them. */
export interface Spend {
  /**
   * The refusal to post when `user` has used their daily budget (used ≥ budget), else
   * `undefined`. Runs before the model call; a turn that starts under the budget finishes even
   * if it ends above it.
   * @throws the SDK's error when the counter cannot be read (the job is redelivered, as for
   *   any DynamoDB failure of a turn).
   */
  refusal(user: TokenUser): Promise<string | undefined>;
  /**
   * Adds a completion's tokens to its provider's daily counter and, with `user`, to that
   * user's, and publishes the token metrics. Never rejects: the answer exists by now, and
   * failing the job would ask the model again; a failed count is logged with its figures.
   */
  record(completion: Completion, user?: TokenUser): Promise<void>;
}

/**
 * The text posted instead of an answer once a user's budget is used up, with the reset time
 * (the next UTC midnight) as a UTC timestamp and as a duration from now, so it reads right in
 * any time zone and on any platform.
 * @param budget - the daily budget, tokens.
 */
export function overBudgetReply(budget: number, resetsAtMs: number, nowMs: number): string {
  const reset = new Date(resetsAtMs).toISOString().slice(0, 16).replace("T", " ");
  const minutes = Math.max(1, Math.ceil((resetsAtMs - nowMs) / 60_000));
  const hours = Math.floor(minutes / 60);
  const wait = hours > 0 ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
  return (
    `You've reached today's limit of ${budget.toLocaleString("en-US")} ` +
    `${budget === 1 ? "token" : "tokens"}, so I'll ` +
    `stop here for now. Your allowance resets at ${reset} UTC (in ${wait}); ask me again then.`
  );
}

/** Builds the {@link Spend} of one container. */
export function createSpend(deps: SpendDeps): Spend {
  return {
    async refusal(user) {
      if (deps.dailyBudget === undefined) return undefined;
      const used = await deps.usage.userTokens(user);
      if (used < deps.dailyBudget) return undefined;
      const nowMs = deps.now();
      deps.logger.info("daily token budget used up; refusing the turn", {
        platform: user.platform,
        userId: user.userId,
        usedTokens: used,
        budgetTokens: deps.dailyBudget,
      });
      return overBudgetReply(deps.dailyBudget, nextUtcMidnightMs(nowMs), nowMs);
    },

    async record(completion, user) {
      const { provider, inputTokens, outputTokens } = completion;
      if (deps.metrics) publishTokenMetrics(deps.metrics, completion);
      try {
        await deps.usage.add({ provider, inputTokens, outputTokens }, user);
      } catch (error) {
        deps.logger.error("could not count tokens; the day's counters are short by these", {
          provider,
          inputTokens,
          outputTokens,
          ...(user ? { platform: user.platform, userId: user.userId } : {}),
          error,
        });
      }
    },
  };
}

/**
 * Emits one EMF document for a completion, dimension `provider`: `InputTokens`,
 * `OutputTokens` and `Tokens` (Count). Powertools adds the `service` dimension (`chat-worker`,
 * `archiver`, …), which tells chat turns from summaries.
 */
export function publishTokenMetrics(metrics: TokenMetricsPublisher, completion: Completion): void {
  metrics.addDimension(PROVIDER_DIMENSION, completion.provider);
  metrics.addMetric("InputTokens", MetricUnit.Count, completion.inputTokens);
  metrics.addMetric("OutputTokens", MetricUnit.Count, completion.outputTokens);
  metrics.addMetric("Tokens", MetricUnit.Count, completion.inputTokens + completion.outputTokens);
  metrics.publishStoredMetrics();
}

/**
 * `llm` with every successful completion recorded through `spend` for no user: the archiver's
 * summaries count toward the provider's daily total but nobody's budget.
 */
export function meterCompleter(llm: Completer, spend: Pick<Spend, "record">): Completer {
  return {
    async complete(input) {
      const result = await llm.complete(input);
      if (result.ok) await spend.record(result.completion);
      return result;
    },
  };
}
