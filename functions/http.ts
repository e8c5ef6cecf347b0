import type { Context } from "hono";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { handle } from "hono/aws-lambda";
import { bodyLimit } from "hono/body-limit";
import { Hono } from "hono/tiny";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createAwsClients } from "../core/compose/aws";
import { buildIngressDeps, type IngressDeps, type WebhookRoute } from "../core/compose/ingress";
import { loadConfig } from "../core/config";
import { MAX_BODY_BYTES } from "../core/constants/limits";
import { runWebhook } from "../core/ingress/pipeline";

/**
 * The HTTP ingress as a Hono app: `GET /health` (`?deep=1` adds the health-check records and
 * today's tokens per provider) and
 * one `POST` route per webhook (`/slack/events`, `/slack/interactions`, `/discord/interactions`,
 * `/kadi/events`), each
 * run through the shared ingress pipeline. The local stack serves this same app; Lambda runs
 * it through {@link handler}.
 */
export function createApp(deps: IngressDeps): Hono {
  const app = new Hono();
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: "payload_too_large", limitBytes: MAX_BODY_BYTES }, 413),
  });

  // `?deep=1` adds the latest scheduled health-check records and today's tokens per provider
  // (two table reads in parallel, each cached briefly); plain `/health` reads nothing.
  app.get("/health", async (c) => {
    if (c.req.query("deep") !== "1") return c.json(deps.health());
    const [checks, tokens] = await Promise.allSettled([deps.healthRecords(), deps.tokenUsage()]);
    if (checks.status === "fulfilled" && tokens.status === "fulfilled") {
      return c.json({ ...deps.health(), checks: checks.value, tokens: tokens.value });
    }
    if (checks.status === "rejected") {
      deps.logger.error("health records unavailable", { error: checks.reason });
    }
    if (tokens.status === "rejected") {
      deps.logger.error("token counters unavailable", { error: tokens.reason });
    }
    const body = {
      ...deps.health(),
      checks: checks.status === "fulfilled" ? checks.value : null,
      tokens: tokens.status === "fulfilled" ? tokens.value : null,
      error:
        checks.status === "rejected" ? "health_records_unavailable" : "token_counters_unavailable",
    };
    return c.json(body, 503);
  });

  // Every webhook is verified on its raw body, so each one gets the body as sent.
  for (const route of deps.webhooks) {
    app.post(route.path, limit, async (c: Context) => {
      const result = await runWebhook(await route.webhook(), deps.pipeline, {
        rawBody: await c.req.text(),
        headers: (name) => c.req.header(name),
      });
      if (result.body === undefined) {
        return c.body(null, result.status as ContentfulStatusCode, result.headers);
      }
      return c.json(result.body, result.status as ContentfulStatusCode, result.headers);
    });
  }

  app.notFound((c) => c.json({ error: "not_found" }, 404));
  app.onError((error, c) => {
    deps.logger.error("unhandled ingress error", { error, path: c.req.path });
    return c.json({ error: "internal_error" }, 500);
  });
  return app;
}

/** The parts of a Lambda HTTP event the webhook fast path reads (function URL / API Gateway
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
 * The Lambda handler around `deps`. A `POST` to a webhook route is answered straight from the
 * Lambda event, everything else goes through the Hono app via `hono/aws-lambda`. Why: turning
 * a Lambda event into a Web `Request` and back costs more than our whole
 * verify+parse+route decision on Node 20 (measured by `npm run bench:ingress`: 110 µs/event
 * through `handle()` against 31 µs for the Slack webhook's pipeline itself, while Bolt's
 * `AwsLambdaReceiver` takes 108 µs), and the webhooks are the hot routes. Both paths call the
 * same `runWebhook`, so statuses match (`test/integration/lambda-http.test.ts` holds them to
 * it).
 */
export function createLambdaHandler(
  deps: IngressDeps,
): (event: LambdaEvent, context: LambdaContext) => Promise<unknown> {
  // Built on the first request that needs it: a cold start serving a webhook never does.
  let viaHono: ReturnType<typeof handle> | undefined;
  const routes = new Map(deps.webhooks.map((route) => [route.path, route]));
  return async (event, context) => {
    const http = event as unknown as HttpLambdaEvent;
    const method = http.requestContext?.http?.method ?? http.httpMethod;
    const route = routes.get(http.rawPath ?? http.path ?? "");
    if (method !== "POST" || !route) {
      viaHono ??= handle(createApp(deps));
      return viaHono(event, context);
    }
    return webhookFromLambda(deps, route, http);
  };
}

async function webhookFromLambda(
  deps: IngressDeps,
  route: WebhookRoute,
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
    const result = await runWebhook(await route.webhook(), deps.pipeline, {
      rawBody: bytes ? bytes.toString("utf8") : raw,
      headers: (name) => headers[name],
    });
    return json(result.status, result.body, result.headers);
  } catch (error) {
    deps.logger.error("unhandled ingress error", { error, path: route.path });
    return json(500, { error: "internal_error" });
  }
}

function json(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): HttpLambdaResult {
  return {
    statusCode,
    headers: { ...headers, "content-type": "application/json" },
    // An empty body (`undefined`) is Slack's acknowledgement of an interaction.
    body: body === undefined ? "" : JSON.stringify(body),
  };
}

let lambdaHandler: ReturnType<typeof createLambdaHandler> | undefined;

/**
 * Lambda entry point (function URL or API Gateway). The shared dependencies are built on the
 * first invocation and each route's own on its first request, once per container (see
 * `buildIngressDeps`).
 */
export function handler(event: LambdaEvent, context: LambdaContext) {
  if (!lambdaHandler) {
    const config = loadConfig({ required: ["CHAT_QUEUE_URL"] });
    lambdaHandler = createLambdaHandler(buildIngressDeps(config, createAwsClients(config)));
  }
  return lambdaHandler(event, context);
}
