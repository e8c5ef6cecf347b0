import { WebClient } from "@slack/web-api";
import type { ReplyTargetOf } from "../chat/job";
import type { Replier } from "../chat/replier";
import { splitMessage } from "../chat/split";

/** Characters per Slack message; longer answers are split (design.md: split at 4000). */
export const SLACK_MAX_MESSAGE_CHARS = 4000;

/**
 * Slack replies through the official `@slack/web-api` client (`chat.postMessage`). The base
 * URL comes from `SLACK_API_URL` so tests and self-hosted proxies can stand in for Slack.
 * The client's own retry policy is limited to two quick retries, and a 429 is not waited out
 * (`rejectRateLimitedCalls`): the queue's redelivery is the long-term retry, and a Lambda must
 * not sleep through a `Retry-After` of many seconds.
 */
export class SlackReplier implements Replier<"slack"> {
  private readonly client: WebClient;

  constructor(options: { botToken: string; apiUrl: string; timeoutMs?: number }) {
    this.client = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl,
      timeout: options.timeoutMs ?? 10_000,
      retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2_000 },
      rejectRateLimitedCalls: true,
    });
  }

  async post(target: ReplyTargetOf<"slack">, text: string): Promise<{ messageId: string }> {
    let first: string | undefined;
    for (const chunk of splitMessage(text, SLACK_MAX_MESSAGE_CHARS)) {
      const result = await this.client.chat.postMessage({
        channel: target.channel,
        text: chunk,
        ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
      });
      first ??= result.ts;
    }
    if (!first) throw new Error("chat.postMessage returned no ts");
    return { messageId: first };
  }
}
