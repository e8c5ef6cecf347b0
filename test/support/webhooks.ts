/**
 * One way to sign and post a body to any of the three webhooks, so edge tests can send the same
 * hostile payload to `/slack/events`, `/discord/interactions` and `/kadi/events` and have it pass
 * signature verification (and so reach parsing): HMAC `v0` for Slack and KĀDI
 * (https://api.slack.com/authentication/verifying-requests-from-slack), Ed25519 over timestamp +
 * body for Discord. Bodies may be any bytes; each is signed exactly as sent.
 */
import { createHmac, sign } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import type { ChatJob } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import { KADI_SIGNATURE_HEADER, KADI_TIMESTAMP_HEADER } from "../../core/kadi/callback";
import { SqsChatQueue } from "../../core/queue/chat-queue";
import { createApp } from "../../functions/http";
import { testAws, testConfig } from "./aws";
import { type DiscordTestKeys, discordTestKeys, TEST_APPLICATION_ID } from "./discord";
import { TEST_SIGNING_SECRET } from "./slack";

/** The webhook paths. */
export type WebhookPath = "/slack/events" | "/discord/interactions" | "/kadi/events";

/** `KADI_CALLBACK_SECRET` of edge tests. */
export const EDGE_KADI_SECRET = "kadi-edge-secret-0123456789abcdef";

/** `SLACK_BOT_USER_ID` of edge tests, so `slack.app_mention.UBOTEDGE` deliveries are routed. */
export const EDGE_SLACK_BOT = "UBOTEDGE";

/** `DISCORD_BOT_USER_ID` of edge tests, so `discord.mention.{id}` deliveries are routed. */
export const EDGE_DISCORD_BOT = "100000000000000042";

/** Keys and the environment that configures all three webhooks. */
export function edgeWebhookEnv(keys: DiscordTestKeys = discordTestKeys()): {
  keys: DiscordTestKeys;
  env: Record<string, string>;
} {
  return {
    keys,
    env: {
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_USER_ID: EDGE_SLACK_BOT,
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: TEST_APPLICATION_ID,
      DISCORD_BOT_USER_ID: EDGE_DISCORD_BOT,
      KADI_CALLBACK_SECRET: EDGE_KADI_SECRET,
    },
  };
}

/** Headers that make `body` pass `path`'s signature check (timestamp: now). */
export function signFor(
  path: WebhookPath,
  body: string | Uint8Array,
  keys: DiscordTestKeys,
): Record<string, string> {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
  const timestamp = String(Math.floor(Date.now() / 1000));
  if (path === "/discord/interactions") {
    const signature = sign(null, Buffer.concat([Buffer.from(timestamp), bytes]), keys.privateKey);
    return {
      "content-type": "application/json",
      "x-signature-ed25519": signature.toString("hex"),
      "x-signature-timestamp": timestamp,
    };
  }
  const secret = path === "/slack/events" ? TEST_SIGNING_SECRET : EDGE_KADI_SECRET;
  const hmac = createHmac("sha256", secret).update(`v0:${timestamp}:`).update(bytes).digest("hex");
  return path === "/slack/events"
    ? {
        "content-type": "application/json",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": `v0=${hmac}`,
      }
    : {
        "content-type": "application/json",
        [KADI_TIMESTAMP_HEADER]: timestamp,
        [KADI_SIGNATURE_HEADER]: `v0=${hmac}`,
      };
}

/** A JSON array nested `depth` levels deep, as text (`[[[…]]]`); too deep to build as a value. */
export function deeplyNested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/**
 * `JSON.stringify(payload)` with every string equal to `marker` replaced by the JSON text
 * `replacement` (e.g. {@link deeplyNested}): how a test puts a value into a payload that
 * `JSON.stringify` could not serialise itself.
 */
export function withRawJson(payload: unknown, marker: string, replacement: string): string {
  return JSON.stringify(payload).split(JSON.stringify(marker)).join(replacement);
}

/** The real ingress app of the edge suites, with what it enqueued counted. */
export interface EdgeIngress {
  aws: AwsClients;
  config: Config;
  keys: DiscordTestKeys;
  app: ReturnType<typeof createApp>;
  /** Jobs the ingress enqueued (each also sent to the emulator's queue), in order. */
  enqueued: ChatJob[];
  /** Empties {@link EdgeIngress.enqueued} and purges the chat queue. */
  reset(): Promise<void>;
}

/**
 * The real app (`createApp(buildIngressDeps(...))`) on DynamoDB Local and its own emulator
 * queue, with the edge suites' secrets and `logger`; a job is counted once the queue took it.
 */
export async function startEdgeIngress(name: string, logger: Logger): Promise<EdgeIngress> {
  const webhookEnv = edgeWebhookEnv();
  const { aws, config } = await testAws(testConfig(webhookEnv.env), {
    queue: `${name}-${Date.now()}`,
  });
  const queue = new SqsChatQueue(aws.sqs, config.chatQueueUrl as string);
  const enqueued: ChatJob[] = [];
  const app = createApp(
    buildIngressDeps(config, aws, {
      logger,
      queue: {
        enqueue: async (job) => {
          await queue.enqueue(job);
          enqueued.push(job);
        },
      },
    }),
  );
  return {
    aws,
    config,
    keys: webhookEnv.keys,
    app,
    enqueued,
    async reset() {
      enqueued.length = 0;
      await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
    },
  };
}
