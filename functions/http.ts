import { Hono } from "hono";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { handle } from "hono/aws-lambda";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createAwsClients } from "../core/compose/aws";
import { buildIngressDeps, type IngressDeps } from "../core/compose/ingress";
import { loadConfig } from "../core/config";
import { handleSlackEvents } from "../core/slack/ingress";

/** Largest request body accepted, in bytes (1 MiB); larger bodies get 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The HTTP ingress as a Hono app: `GET /health`, `POST /slack/events`. The local stack serves
 * this same app; Lambda runs it through {@link handler}.
 */
export function createApp(deps: IngressDeps): Hono {
  const app = new Hono();
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: "payload_too_large", limitBytes: MAX_BODY_BYTES }, 413),
  });

  app.get("/health", (c) => c.json(deps.health()));

  app.post("/slack/events", limit, async (c) => {
    const rawBody = await c.req.text();
    const result = await handleSlackEvents(deps.slack, {
      rawBody,
      headers: (name) => c.req.header(name),
    });
    return c.json(result.body, result.status as ContentfulStatusCode);
  });

  app.notFound((c) => c.json({ error: "not_found" }, 404));
  app.onError((error, c) => {
    deps.logger.error("unhandled ingress error", { error, path: c.req.path });
    return c.json({ error: "internal_error" }, 500);
  });
  return app;
}

let lambdaHandler: ReturnType<typeof handle> | undefined;

/** Lambda entry point (function URL or API Gateway HTTP API); dependencies built once. */
export function handler(event: LambdaEvent, context: LambdaContext) {
  if (!lambdaHandler) {
    const config = loadConfig({ required: ["CHAT_QUEUE_URL"] });
    lambdaHandler = handle(createApp(buildIngressDeps(config, createAwsClients(config))));
  }
  return lambdaHandler(event, context);
}
