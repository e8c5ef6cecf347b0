import { randomUUID } from "node:crypto";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { buildIngressDeps, type IngressDeps } from "../../core/compose/ingress";
import { createApp, createLambdaHandler } from "../../functions/http";
import { testAws, testConfig } from "../support/aws";
import {
  appMentionEnvelope,
  blockActionsPayload,
  signedHeaders,
  signedInteraction,
  TEST_SIGNING_SECRET,
} from "../support/slack";

let deps: IngressDeps;
/** The same ingress with a chat queue that refuses every job. */
let queueDown: IngressDeps;

beforeAll(async () => {
  const setup = await testAws(testConfig({ SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET }), {
    queue: `lambda-http-${Date.now()}`,
  });
  deps = buildIngressDeps(setup.config, setup.aws);
  queueDown = buildIngressDeps(setup.config, setup.aws, {
    queue: {
      enqueue: async () => {
        throw new Error("queue down");
      },
    },
  });
});

/** A Lambda function URL event (payload format 2.0), as AWS documents it. */
function functionUrlEvent(
  method: string,
  path: string,
  body: string,
  headers: Record<string, string>,
  base64 = false,
) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId: "url-id",
      domainName: "url-id.lambda-url.us-east-1.on.aws",
      domainPrefix: "url-id",
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "Slackbot 1.0",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: "22/Nov/2026:03:00:00 +0000",
      timeEpoch: Date.now(),
    },
    body: base64 ? Buffer.from(body).toString("base64") : body,
    isBase64Encoded: base64,
  } as unknown as LambdaEvent;
}

const context = {} as LambdaContext;

type Case = [
  name: string,
  body: (id: string) => string,
  headers: (b: string) => Record<string, string>,
];
const cases: Case[] = [
  [
    "a signed mention",
    (id) => JSON.stringify(appMentionEnvelope({ eventId: id, text: "hi" })),
    (b) => signedHeaders(b),
  ],
  [
    "url_verification",
    () => JSON.stringify({ type: "url_verification", challenge: "c1" }),
    (b) => signedHeaders(b),
  ],
  [
    "a bad signature",
    (id) => JSON.stringify(appMentionEnvelope({ eventId: id, text: "hi" })),
    (b) => signedHeaders(b, { secret: "nope" }),
  ],
  ["malformed JSON", () => "{oops", (b) => signedHeaders(b)],
  [
    "a body over 1 MiB",
    () => JSON.stringify({ type: "event_callback", pad: "x".repeat(1_100_000) }),
    (b) => signedHeaders(b),
  ],
];

describe("Lambda handler parity with the Hono app", () => {
  it.each(cases)("answers %s the same way on both paths", async (_name, body, headers) => {
    const viaApp = body(`Ev-app-${randomUUID()}`);
    const appRes = await createApp(deps).request("/slack/events", {
      method: "POST",
      body: viaApp,
      headers: headers(viaApp),
    });
    const viaLambda = body(`Ev-lambda-${randomUUID()}`);
    const lambdaRes = (await createLambdaHandler(deps)(
      functionUrlEvent("POST", "/slack/events", viaLambda, headers(viaLambda)),
      context,
    )) as { statusCode: number; body: string };
    expect(lambdaRes.statusCode).toBe(appRes.status);
    expect(JSON.parse(lambdaRes.body)).toEqual(await appRes.json());
  });

  it("answers 503 with Retry-After on both paths when the queue is down", async () => {
    const viaApp = JSON.stringify(appMentionEnvelope({ eventId: `Ev-${randomUUID()}`, text: "x" }));
    const appRes = await createApp(queueDown).request("/slack/events", {
      method: "POST",
      body: viaApp,
      headers: signedHeaders(viaApp),
    });
    const viaLambda = JSON.stringify(
      appMentionEnvelope({ eventId: `Ev-${randomUUID()}`, text: "x" }),
    );
    const lambdaRes = (await createLambdaHandler(queueDown)(
      functionUrlEvent("POST", "/slack/events", viaLambda, signedHeaders(viaLambda)),
      context,
    )) as { statusCode: number; headers: Record<string, string>; body: string };
    for (const [status, retryAfter, body] of [
      [appRes.status, appRes.headers.get("retry-after"), await appRes.json()],
      [lambdaRes.statusCode, lambdaRes.headers["retry-after"], JSON.parse(lambdaRes.body)],
    ]) {
      expect({ status, retryAfter, body }).toEqual({
        status: 503,
        retryAfter: "5",
        body: { error: "queue_unavailable" },
      });
    }
  });

  it("decodes base64 bodies and reads mixed-case headers (API Gateway v1 style)", async () => {
    const body = JSON.stringify({ type: "url_verification", challenge: "c2" });
    const signed = signedHeaders(body);
    const mixedCase = Object.fromEntries(
      Object.entries(signed).map(([k, v]) => [
        k.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()),
        v,
      ]),
    );
    const res = (await createLambdaHandler(deps)(
      functionUrlEvent("POST", "/slack/events", body, mixedCase, true),
      context,
    )) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ challenge: "c2" });
  });

  it("acks a Slack interaction with an empty body on both paths", async () => {
    const click = () =>
      signedInteraction(
        blockActionsPayload({ actionId: "tool_approve", value: `missing-${randomUUID()}` }),
      );
    const viaApp = click();
    // No such approval: refused, and the clicker told through an unreachable response_url.
    const appRes = await createApp(deps).request("/slack/interactions", {
      method: "POST",
      ...viaApp,
    });
    const viaLambda = click();
    const lambdaRes = (await createLambdaHandler(deps)(
      functionUrlEvent("POST", "/slack/interactions", viaLambda.body, viaLambda.headers),
      context,
    )) as { statusCode: number; body: string };
    expect([appRes.status, await appRes.text()]).toEqual([200, ""]);
    expect([lambdaRes.statusCode, lambdaRes.body]).toEqual([200, ""]);
  });

  it("routes everything else through Hono", async () => {
    const res = (await createLambdaHandler(deps)(
      functionUrlEvent("GET", "/health", "", {}),
      context,
    )) as {
      statusCode: number;
      body: string;
    };
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty("providers");
  });
});
