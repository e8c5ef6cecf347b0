/**
 * The ingress's side of Slack's AI-app surface (https://docs.slack.dev/ai/developing-ai-apps):
 * when a person opens the agent's assistant thread, give it a title and suggested prompts.
 * Loaded by `./webhook.ts` with a dynamic `import()` on the first `assistant_thread_started`
 * only.
 *
 * Two Web API calls made with `fetch` rather than `@slack/web-api`'s `WebClient` (which the
 * worker uses for everything else): the client added 67 KB to the ingress bundle (246 → 313 KB
 * minified, `npm run bench:ingress`), over its 250 KB target, for two JSON POSTs. The wire format
 * is Slack's own (https://docs.slack.dev/apis/web-api/#post-bodies: JSON body, bearer token,
 * answer `{ok, error}`).
 */
import { SLACK_ASSISTANT } from "../../constants/platforms";
import { SLACK_ASSISTANT_CALLS } from "../../constants/timings";
import type { SlackThread } from "./events";

/**
 * What became of one Web API call: `ok`, `none configured` (nothing to set), Slack's error
 * code (`invalid_auth`, `not_allowed`…), `ratelimited` (a 429, not waited out), or
 * `slack_webapi_request_error` (a timeout, a network failure or a 5xx, after the retry). Never a
 * message text, so it may be logged.
 */
export type SlackCallOutcome = string;

/**
 * Sets up assistant threads, bounded so the ingress still acks within Slack's 3 s: each attempt
 * is cut after `SLACK_ASSISTANT_CALLS.timeoutMs`, a failed request (no answer, or a 5xx) is
 * retried at most `SLACK_ASSISTANT_CALLS.retries` times, and a 429 is not waited out.
 */
export class SlackAssistantThreads {
  private readonly prompts: { title: string; message: string }[];
  private readonly options: { botToken: string; apiUrl: string; fetch: typeof fetch };

  /**
   * @param options.apiUrl - Web API base URL ending in `/` (`SLACK_API_URL`).
   * @param options.prompts - the suggested prompts (`SLACK_SUGGESTED_PROMPTS`), each shown and
   *   sent as written.
   * @param options.fetch - replaces the runtime's `fetch` (tests).
   */
  constructor(options: {
    botToken: string;
    apiUrl: string;
    prompts: readonly string[];
    fetch?: typeof fetch;
  }) {
    this.options = {
      botToken: options.botToken,
      apiUrl: options.apiUrl,
      fetch: options.fetch ?? fetch,
    };
    this.prompts = options.prompts.map((prompt) => ({ title: prompt, message: prompt }));
  }

  /**
   * Sets the thread's title (`assistant.threads.setTitle`,
   * https://docs.slack.dev/reference/methods/assistant.threads.setTitle) and its suggested
   * prompts (`assistant.threads.setSuggestedPrompts`,
   * https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts), in
   * parallel. Never throws: each call's outcome comes back for the log, and `failed` says
   * whether either call failed.
   *
   * @param thread - the assistant thread: its DM channel and parent `ts`.
   */
  async setUp(thread: SlackThread): Promise<{
    outcomes: { setTitle: SlackCallOutcome; setSuggestedPrompts: SlackCallOutcome };
    failed: boolean;
  }> {
    const args = { channel_id: thread.channel, thread_ts: thread.threadTs };
    const [setTitle, setSuggestedPrompts] = await Promise.all([
      this.call("assistant.threads.setTitle", { ...args, title: SLACK_ASSISTANT.threadTitle }),
      // `SLACK_SUGGESTED_PROMPTS=|` lists none; Slack refuses an empty list.
      this.prompts.length > 0
        ? this.call("assistant.threads.setSuggestedPrompts", { ...args, prompts: this.prompts })
        : NONE_CONFIGURED,
    ]);
    const outcomes = { setTitle, setSuggestedPrompts };
    const failed = Object.values(outcomes).some((o) => o !== "ok" && o !== NONE_CONFIGURED);
    return { outcomes, failed };
  }

  /** One Web API call: `ok`, Slack's error code, `ratelimited`, or {@link REQUEST_ERROR}. */
  private async call(method: string, args: Record<string, unknown>): Promise<SlackCallOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.options.fetch(`${this.options.apiUrl}${method}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${this.options.botToken}`,
            "content-type": "application/json; charset=utf-8",
          },
          body: JSON.stringify(args),
          signal: AbortSignal.timeout(SLACK_ASSISTANT_CALLS.timeoutMs),
        });
        if (res.status === 429) return "ratelimited";
        if (res.status < 500) {
          const body = (await res.json()) as { ok?: unknown; error?: unknown };
          if (body.ok === true) return "ok";
          return typeof body.error === "string" ? body.error : REQUEST_ERROR;
        }
      } catch {
        // A timeout, a refused connection or an unreadable body: retried like a 5xx, and
        // reported by its outcome code (the caller logs it).
      }
      if (attempt >= SLACK_ASSISTANT_CALLS.retries) return REQUEST_ERROR;
      await new Promise((resolve) => setTimeout(resolve, SLACK_ASSISTANT_CALLS.retryDelayMs));
    }
  }
}

const NONE_CONFIGURED = "none configured";

/** The outcome of a call that got no usable answer (as `@slack/web-api` names it). */
const REQUEST_ERROR = "slack_webapi_request_error";
