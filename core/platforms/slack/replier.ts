import { WebClient } from "@slack/web-api";
import * as z from "zod";
import type { ReplyTarget } from "../../chat/job";
import type { Replier } from "../../chat/replier";
import { splitMessage } from "../../chat/split";
import { readAddress } from "../address";
import { SLACK_MAX_MESSAGE_CHARS } from "./limits";

/** A `via: "direct"` Slack address: the channel, and the thread when answering in one. */
const directAddressSchema = z.object({
  channel: z.string().min(1),
  threadTs: z.string().min(1).optional(),
});

/**
 * Slack replies through the official `@slack/web-api` client (`chat.postMessage`,
 * https://api.slack.com/methods/chat.postMessage). The base URL comes from `SLACK_API_URL` so
 * tests and self-hosted proxies can stand in for Slack. The client's own retry policy is
 * limited to two quick retries, and a 429 is not waited out (`rejectRateLimitedCalls`): the
 * queue's redelivery is the long-term retry, and a Lambda must not sleep through a
 * `Retry-After` of many seconds.
 */
export class SlackReplier implements Replier {
  private readonly client: WebClient;

  constructor(options: { botToken: string; apiUrl: string; timeoutMs?: number }) {
    this.client = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl,
      timeout: options.timeoutMs ?? 10_000,
      retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2_000 },
      rejectRateLimitedCalls: true,
    });
  }

  /**
   * Posts `text` in chunks of at most {@link SLACK_MAX_MESSAGE_CHARS}, in the thread when the
   * address names one.
   * @returns the `ts` of the first message.
   * @throws {InvalidReplyAddressError} for an address without `channel`; the Web API's error
   *   when a call fails (earlier chunks stay posted).
   */
  async post(target: ReplyTarget, text: string): Promise<{ messageId: string }> {
    const { channel, threadTs } = readAddress(directAddressSchema, target.address, "slack address");
    let first: string | undefined;
    for (const chunk of splitMessage(text, SLACK_MAX_MESSAGE_CHARS)) {
      const result = await this.client.chat.postMessage({
        channel,
        text: chunk,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      first ??= result.ts;
    }
    if (!first) throw new Error("chat.postMessage returned no ts");
    return { messageId: first };
  }
}
