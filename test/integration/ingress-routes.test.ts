import { randomUUID } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import type { AwsClients } from "../../core/compose/aws";
import { buildIngressDeps, KADI_EVENTS_PATH } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import { createLogger } from "../../core/logger";
import { createLambdaHandler } from "../../functions/http";
import { queueDepth, testAws, testConfig } from "../support/aws";
import { discordTestKeys, pingInteraction, signInteraction } from "../support/discord";
import { appMentionEnvelope, signedHeaders, TEST_SIGNING_SECRET } from "../support/slack";

// The ingress builds each route's pieces on the route's first request, once per container
// (core/compose/ingress.ts): a cold start that serves a Slack mention must not load or build
// Discord's, KĀDI's or the health check's. Every build is logged at debug level.

let aws: AwsClients;
let config: Config;
const discordKeys = discordTestKeys();

beforeAll(async () => {
  const setup = await testAws(
    testConfig({
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_USER_ID: "UBOT",
      DISCORD_PUBLIC_KEY: discordKeys.publicKeyHex,
      KADI_CALLBACK_SECRET: "kadi-callback-secret-0123456789",
    }),
    { queue: `ingress-routes-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
});

/** A fresh container: its own deps and Lambda handler, with the debug log spied on. */
function container(): {
  handler: ReturnType<typeof createLambdaHandler>;
  debug: MockInstance<Logger["debug"]>;
} {
  const logger = createLogger("ingress-routes-test", "SILENT");
  const debug = vi.spyOn(logger, "debug");
  return { handler: createLambdaHandler(buildIngressDeps(config, aws, { logger })), debug };
}

/** Paths whose route was built, in order, as logged. */
function built(debug: MockInstance<Logger["debug"]>): string[] {
  return debug.mock.calls
    .filter(([message]) => message === "ingress route built")
    .map(([, keys]) => String((keys as { path?: unknown }).path));
}

/** A Lambda function URL event (payload format 2.0) for `POST path`. */
function post(path: string, body: string, headers: Record<string, string>): LambdaEvent {
  return {
    version: "2.0",
    rawPath: path,
    rawQueryString: "",
    headers,
    requestContext: { http: { method: "POST", path }, requestId: randomUUID() },
    body,
    isBase64Encoded: false,
  } as unknown as LambdaEvent;
}

const context = {} as LambdaContext;

async function send(
  handler: ReturnType<typeof createLambdaHandler>,
  event: LambdaEvent,
): Promise<{ statusCode: number; body: unknown }> {
  const res = (await handler(event, context)) as { statusCode: number; body: string };
  return { statusCode: res.statusCode, body: JSON.parse(res.body) };
}

function slackMention(): LambdaEvent {
  const body = JSON.stringify(appMentionEnvelope({ eventId: `Ev-${randomUUID()}`, text: "hi" }));
  return post("/slack/events", body, signedHeaders(body));
}

describe("ingress routes built on first use", () => {
  it("builds only the Slack route for Slack mentions, once, and still enqueues each", async () => {
    const { handler, debug } = container();
    const depth = await queueDepth(aws.sqs, config.chatQueueUrl as string);
    for (let i = 0; i < 2; i++) {
      expect(await send(handler, slackMention())).toEqual({ statusCode: 200, body: { ok: true } });
    }
    expect(built(debug)).toEqual(["/slack/events"]);
    expect(await queueDepth(aws.sqs, config.chatQueueUrl as string)).toBe(depth + 2);
  });

  it("builds each other route on its own first request, once even when requests overlap", async () => {
    const { handler, debug } = container();
    const ping = JSON.stringify(pingInteraction());
    const pings = await Promise.all(
      [1, 2, 3].map(() =>
        send(handler, post("/discord/interactions", ping, signInteraction(discordKeys, ping))),
      ),
    );
    for (const res of pings) expect(res).toEqual({ statusCode: 200, body: { type: 1 } });
    expect(built(debug)).toEqual(["/discord/interactions"]);

    // Unsigned, so refused: the route is built all the same, and nothing is enqueued.
    const unsigned = await send(handler, post(KADI_EVENTS_PATH, "{}", {}));
    expect(unsigned.statusCode).toBe(401);
    await send(handler, post(KADI_EVENTS_PATH, "{}", {}));
    await send(handler, slackMention());
    expect(built(debug)).toEqual(["/discord/interactions", KADI_EVENTS_PATH, "/slack/events"]);
  });
});
