import { type Context, Hono } from "hono";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { handle } from "hono/aws-lambda";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createAwsClients } from "../core/compose/aws";
import { buildIngressDeps, type IngressDeps } from "../core/compose/ingress";
import { loadConfig } from "../core/config";
import { handleDiscordInteraction } from "../core/discord/ingress";
import type { IngressResponse, RawRequest } from "../core/ingress";
import { handleKadiEvent } from "../core/kadi/ingress";
import { handleSlackEvents } from "../core/slack/ingress";

/** Largest request body accepted, in bytes (1 MiB); larger bodies get 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The HTTP ingress as a Hono app: `GET /health` (`?deep=1` adds the health-check records),
 * `POST /slack/events`, `POST /discord/interactions`, `POST /kadi/events`. The local stack
 * serves this same app; Lambda runs it through {@link handler}.
 */
export function createApp(deps: IngressDeps): Hono {
  const app = new Hono();
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: "payload_too_large", limitBytes: MAX_BODY_BYTES }, 413),
  });

  // `?deep=1` adds the latest scheduled health-check records (one table read, cached briefly).
  app.get("/health", async (c) => {
    if (c.req.query("deep") !== "1") return c.json(deps.health());
    try {
      return c.json({ ...deps.health(), checks: await deps.healthRecords() });
    } catch (error) {
      deps.logger.error("health records unavailable", { error });
      return c.json({ ...deps.health(), checks: null, error: "health_records_unavailable" }, 503);
    }
  });

  // Every webhook is verified on its raw body, so each handler gets the body as sent.
  const webhook =
    (handle: (request: RawRequest) => Promise<IngressResponse>) => async (c: Context) => {
      const result = await handle({
        rawBody: await c.req.text(),
        headers: (name) => c.req.header(name),
      });
      return c.json(result.body, result.status as ContentfulStatusCode);
    };
  app.post(
    "/slack/events",
    limit,
    webhook((r) => handleSlackEvents(deps.slack, r)),
  );
  app.post(
    "/discord/interactions",
    limit,
    webhook((r) => handleDiscordInteraction(deps.discord, r)),
  );
  app.post(
    "/kadi/events",
    limit,
    webhook((r) => handleKadiEvent(deps.kadi, r)),
  );

  app.notFound((c) => c.json({ error: "not_found" }, 404));
  app.onError((error, c) => {
    deps.logger.error("unhandled ingress error", { error, path: c.req.path });
    return c.json({ error: "internal_error" }, 500);
  });
  return app;
}

/** The parts of a Lambda HTTP event the Slack fast path reads (function URL / API Gateway
 * HTTP API payload v2, or API Gateway REST payload v1). */
interface HttpLambdaEvent {
  rawPath?: string;
  path?: string;
  httpMethod?: string;
  requestContext?: { http?: { method?: string } };
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** A Lambda proxy result (both payload versions accept this shape). */
interface HttpLambdaResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The Lambda handler around `deps`. `POST /slack/events` is answered straight from the Lambda
 * event, everything else goes through the Hono app via `hono/aws-lambda`. Why: turning a Lambda
 * event into a Web `Request` and back costs more than our whole verify+parse+route decision on
 * Node 20 (measured by `npm run bench:ingress`: 110 µs/event through `handle()` against 31 µs
 * for `handleSlackEvents` itself, while Bolt's `AwsLambdaReceiver` takes 108 µs), and Slack's
 * endpoint is the hot one. Both paths call the same `handleSlackEvents`, so statuses match
 * (`test/integration/lambda-http.test.ts` holds them to it).
 */
export function createLambdaHandler(
  deps: IngressDeps,
): (event: LambdaEvent, context: LambdaContext) => Promise<unknown> {
  const viaHono = handle(createApp(deps));
  return async (event, context) => {
    const http = event as unknown as HttpLambdaEvent;
    const method = http.requestContext?.http?.method ?? http.httpMethod;
    const path = http.rawPath ?? http.path;
    if (method !== "POST" || path !== "/slack/events") return viaHono(event, context);
    return slackEventsFromLambda(deps, http);
  };
}

async function slackEventsFromLambda(
  deps: IngressDeps,
  event: HttpLambdaEvent,
): Promise<HttpLambdaResult> {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : undefined;
  const size = bytes ? bytes.length : Buffer.byteLength(raw, "utf8");
  if (size > MAX_BODY_BYTES) {
    return json(413, { error: "payload_too_large", limitBytes: MAX_BODY_BYTES });
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  try {
    const result = await handleSlackEvents(deps.slack, {
      rawBody: bytes ? bytes.toString("utf8") : raw,
      headers: (name) => headers[name],
    });
    return json(result.status, result.body);
  } catch (error) {
    deps.logger.error("unhandled ingress error", { error, path: "/slack/events" });
    return json(500, { error: "internal_error" });
  }
}

function json(statusCode: number, body: unknown): HttpLambdaResult {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

let lambdaHandler: ReturnType<typeof createLambdaHandler> | undefined;

/** Lambda entry point (function URL or API Gateway); dependencies built once per container. */
export function handler(event: LambdaEvent, context: LambdaContext) {
  if (!lambdaHandler) {
    const config = loadConfig({ required: ["CHAT_QUEUE_URL"] });
    lambdaHandler = createLambdaHandler(buildIngressDeps(config, createAwsClients(config)));
  }
  return lambdaHandler(event, context);
}
