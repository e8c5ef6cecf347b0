/**
 * The ingress's side of Slack's AI-app surface (https://docs.slack.dev/ai/developing-ai-apps):
 * when a person opens the agent's assistant thread, give it a title and suggested prompts.
 * Loaded by `./webhook.ts` with a dynamic `import()` on the first `assistant_thread_started`
 * only, so the Web API client stays out of the chunks a mention loads.
 */
import { SlackError, WebAPIPlatformError, WebClient } from "@slack/web-api";
import { SLACK_ASSISTANT } from "../../constants/platforms";
import { SLACK_ASSISTANT_CALLS } from "../../constants/timings";
import type { SlackThread } from "./events";

/**
 * What became of one Web API call: `ok`, `none configured` (nothing to set), Slack's error code (`invalid_auth`, `not_allowed`…),
 * or the client's (`slack_webapi_request_error` for a timeout or a network failure). Never a
 * message text, so it may be logged.
 */
export type SlackCallOutcome = string;

/**
 * Sets up assistant threads through the official `@slack/web-api` client, bounded so the
 * ingress still acks within Slack's 3 s: each attempt is cut after
 * `SLACK_ASSISTANT_CALLS.timeoutMs`, retried at most once, and a 429 is not waited out.
 */
export class SlackAssistantThreads {
  private readonly client: WebClient;
  private readonly prompts: { title: string; message: string }[];

  /**
   * @param options.apiUrl - Web API base URL ending in `/` (`SLACK_API_URL`).
   * @param options.prompts - the suggested prompts (`SLACK_SUGGESTED_PROMPTS`), each shown and
   *   sent as written.
   */
  constructor(options: { botToken: string; apiUrl: string; prompts: readonly string[] }) {
    this.client = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl,
      timeout: SLACK_ASSISTANT_CALLS.timeoutMs,
      retryConfig: {
        retries: SLACK_ASSISTANT_CALLS.retries,
        minTimeout: SLACK_ASSISTANT_CALLS.retryDelayMs,
        maxTimeout: SLACK_ASSISTANT_CALLS.retryDelayMs,
        randomize: false,
      },
      rejectRateLimitedCalls: true,
    });
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
    const [title, prompts] = await Promise.allSettled([
      this.client.assistant.threads.setTitle({ ...args, title: SLACK_ASSISTANT.threadTitle }),
      // `SLACK_SUGGESTED_PROMPTS=|` lists none; Slack refuses an empty list.
      this.prompts.length > 0
        ? this.client.assistant.threads.setSuggestedPrompts({ ...args, prompts: this.prompts })
        : undefined,
    ]);
    const outcomes = {
      setTitle: outcomeOf(title),
      setSuggestedPrompts: this.prompts.length > 0 ? outcomeOf(prompts) : NONE_CONFIGURED,
    };
    const failed = Object.values(outcomes).some((o) => o !== "ok" && o !== NONE_CONFIGURED);
    return { outcomes, failed };
  }
}

const NONE_CONFIGURED = "none configured";

function outcomeOf(settled: PromiseSettledResult<unknown>): SlackCallOutcome {
  if (settled.status === "fulfilled") return "ok";
  const error: unknown = settled.reason;
  if (error instanceof WebAPIPlatformError) return error.data.error;
  return error instanceof SlackError ? error.code : "error";
}
