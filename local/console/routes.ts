import { timingSafeEqual } from "node:crypto";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie, setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import type * as z from "zod";
import type { LongTermMemory } from "../../core/compose/memory";
import { MAX_BODY_BYTES } from "../../core/constants/limits";
import { PROVIDER_IDS } from "../../core/constants/models";
import type { HealthReport } from "../../core/health";
import type { Probe } from "../../core/health-check/probes";
import type { HealthRecord } from "../../core/health-check/records";
import { admitJob, type PipelineDeps } from "../../core/ingress/pipeline";
import { describeIssue } from "../../core/ingress/zod-issue";
import type { BreakerStore } from "../../core/llm/breaker-store";
import { contextLimit } from "../../core/memory/archival";
import type { ConversationStore } from "../../core/memory/conversations";
import type { PreferenceStore } from "../../core/memory/preferences";
import { type RecallBudget, selectRecall } from "../../core/memory/recall";
import type { ForgetConversation } from "../../core/platforms/adapter";
import {
  type WebConversation,
  webChatJob,
  webConversationRef,
  webConversationSchema,
  webMessageSchema,
  webModelSchema,
} from "../../core/platforms/web/job";
import { CONSOLE_TOKEN_HEADER } from "./address";
import type { ConsoleHub } from "./hub";
import { servePage } from "./page";

/** Cookie the page's requests carry the token in (set when the page is opened with it). */
const TOKEN_COOKIE = "console_token";

/** Milliseconds between keep-alive comments on an idle event stream. */
const KEEPALIVE_MS = 15_000;

/** Everything the console's routes read and write; built once by the local stack. */
export interface ConsoleDeps {
  /** The per-start secret every `/console/api/*` request must carry. */
  token: string;
  hub: ConsoleHub;
  /** The ingress pipeline's dedupe store and chat queue (the outbox sink, locally). */
  pipeline: PipelineDeps;
  conversations: ConversationStore;
  preferences: PreferenceStore;
  memory: LongTermMemory;
  recallBudget: RecallBudget;
  archiveHighWater: number;
  forget: ForgetConversation;
  /** `GET /health`'s configuration report. */
  health: () => HealthReport;
  breakers: BreakerStore;
  healthRecords: () => Promise<HealthRecord[]>;
  /** Live probes of the chat and archive queues (depth, in flight, DLQ depth). */
  queues: { chat: Probe; archive: Probe };
}

/**
 * Adds the console to the local stack's Hono app (docs/architecture.md, "Local console"):
 * the page at `GET /` (with `?token=`, which it turns into a `SameSite=Strict`, `HttpOnly`
 * cookie) and its assets under `/console/`, and the API under `/console/api/`, where every
 * request must carry the token (cookie or the {@link CONSOLE_TOKEN_HEADER} header) or gets
 * 401:
 * - `POST messages {text, user?, channel?}` → 202 `{jobId}`: the job enters the ingress
 *   pipeline (dedupe claim, outbox, chat queue) like a webhook's; 400 naming the field;
 * - `GET events?user&channel` → server-sent events of that conversation (see `ConsoleEvent`);
 * - `GET memory?user&channel` → `{messages, runningSummary, recalled, preferences}`;
 * - `POST forget {user?, channel?}` → `{messages, summaries}` deleted (Discord's `/forget`);
 * - `POST model {model, user?}` → stores the model preference (Discord's `/model`);
 * - `GET health` → providers with breaker state, queue and DLQ depths, the last checks.
 * Only the local stack calls this; the deployed ingress has no console.
 */
export function mountConsole(app: Hono, deps: ConsoleDeps): void {
  const expected = Buffer.from(deps.token);
  const authorised = (c: Context): boolean => {
    const given = c.req.header(CONSOLE_TOKEN_HEADER) ?? getCookie(c, TOKEN_COOKIE) ?? "";
    const bytes = Buffer.from(given);
    return bytes.length === expected.length && timingSafeEqual(bytes, expected);
  };
  const requireToken: MiddlewareHandler = async (c, next) => {
    if (!authorised(c)) {
      return c.json({ error: "unauthorized: open the console URL that npm start printed" }, 401);
    }
    await next();
  };
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: "payload_too_large", limitBytes: MAX_BODY_BYTES }, 413),
  });

  app.get("/", (c) => {
    const token = c.req.query("token");
    if (token !== undefined && Buffer.from(token).equals(expected)) {
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/console" });
    }
    return servePage(c, "index.html");
  });
  app.get("/console/assets/:name", (c) => servePage(c, c.req.param("name")));
  app.use("/console/api/*", requireToken);

  app.post("/console/api/messages", limit, async (c) => {
    const body = await readBody(c, webMessageSchema);
    if (!body.ok) return c.json({ error: body.error }, 400);
    const job = webChatJob(body.value, deps.pipeline.now());
    const admitted = await admitJob(
      deps.pipeline,
      { name: "web message", scope: "web" },
      { id: job.jobId, job, keys: { jobId: job.jobId, user: body.value.user } },
    );
    if (admitted.outcome === "invalid") return c.json({ error: admitted.error }, 400);
    if (admitted.outcome === "failed") return c.json({ error: admitted.error }, 503);
    return c.json({ jobId: job.jobId }, 202);
  });

  app.get("/console/api/events", (c) => {
    const who = readQuery(c);
    if (!who.ok) return c.json({ error: who.error }, 400);
    return streamSSE(c, async (stream) => {
      const unsubscribe = deps.hub.subscribe(who.value, (event) => {
        stream.writeSSE({ event: event.type, data: JSON.stringify(event) }).catch(() => {
          // The client went away; onAbort unsubscribes.
        });
      });
      const unregister = deps.hub.onClose(() => stream.close());
      stream.onAbort(() => {
        unsubscribe();
        unregister();
      });
      await stream.writeSSE({ event: "ready", data: "{}" });
      while (!stream.aborted && !stream.closed) {
        await stream.sleep(KEEPALIVE_MS);
        if (!stream.aborted && !stream.closed) await stream.write(": keep-alive\n\n");
      }
      unsubscribe();
      unregister();
    });
  });

  app.get("/console/api/memory", async (c) => {
    const who = readQuery(c);
    if (!who.ok) return c.json({ error: who.error }, 400);
    return c.json(await readMemory(deps, who.value));
  });

  app.post("/console/api/forget", limit, async (c) => {
    const body = await readBody(c, webConversationSchema);
    if (!body.ok) return c.json({ error: body.error }, 400);
    return c.json(await deps.forget(webConversationRef(body.value)));
  });

  app.post("/console/api/model", limit, async (c) => {
    const body = await readBody(c, webModelSchema);
    if (!body.ok) return c.json({ error: body.error }, 400);
    await deps.preferences.put("web", body.value.user, "model", body.value.model);
    return c.json({ model: body.value.model });
  });

  app.get("/console/api/health", async (c) => c.json(await readHealth(deps)));
}

/** What the console's memory panel shows for one conversation. */
export interface ConsoleMemory {
  /** Live messages, oldest first, as the next turn reads them; `sentAt` in epoch ms. */
  messages: { role: string; content: string; model?: string; sentAt: number }[];
  /** The running summary of the archived part, or `null`. */
  runningSummary: string | null;
  /**
   * The archived summaries the last question matches, best first, with their BM25 scores;
   * `used` marks those within the recall budget (what the turn put into the prompt).
   */
  recalled: { text: string; score: number; used: boolean }[];
  preferences: Record<string, string>;
}

async function readMemory(deps: ConsoleDeps, who: WebConversation): Promise<ConsoleMemory> {
  const ref = webConversationRef(who);
  const [head, messages, preferences] = await Promise.all([
    deps.conversations.head(ref),
    deps.conversations.recent(ref, contextLimit(deps.archiveHighWater)),
    deps.preferences.getAll("web", who.user),
  ]);
  const question = messages.findLast((m) => m.role === "user")?.content ?? "";
  const hits = question.trim()
    ? await deps.memory.index.search({
        platform: "web",
        userId: who.user,
        text: question,
        limit: Math.max(deps.recallBudget.maxSummaries, 1),
      })
    : [];
  const used = new Set(selectRecall(hits, deps.recallBudget).map((s) => s.id));
  return {
    messages: messages.map((m) => ({
      role: m.role,
      content: m.content,
      sentAt: m.sentAt,
      ...(m.model ? { model: m.model } : {}),
    })),
    runningSummary: head.runningSummary?.text ?? null,
    recalled: hits.map((h) => ({
      text: h.summary.text,
      score: h.score,
      used: used.has(h.summary.id),
    })),
    preferences,
  };
}

/**
 * What the console's health strip shows: each provider's configuration and breaker state,
 * live depths of the chat and archive queues and their DLQs (a probe that fails or takes over
 * 3 s reads `{ok: false, error}`), the last scheduled checks (`lastCheckAt`, `checkedAt`: epoch
 * ms), and `setup` (what to set) when no model is configured.
 */
export type ConsoleHealth = Awaited<ReturnType<typeof readHealth>>;

async function readHealth(deps: ConsoleDeps) {
  const report = deps.health();
  const providers = await Promise.all(
    PROVIDER_IDS.map(async (id) => {
      const breaker = await deps.breakers.get(id).catch(() => undefined);
      return [id, { ...report.providers[id], breaker: breaker?.state ?? "unknown" }] as const;
    }),
  );
  const probe = async (p: Probe) => {
    try {
      return { ok: true, ...(await p.run(AbortSignal.timeout(3_000))) };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  };
  const [chat, archive, checks] = await Promise.all([
    probe(deps.queues.chat),
    probe(deps.queues.archive),
    deps.healthRecords().catch(() => [] as HealthRecord[]),
  ]);
  return {
    status: report.status,
    providers: Object.fromEntries(providers),
    // Said by the page instead of a dead chat box when no model is configured.
    ...(report.status === "degraded"
      ? {
          setup:
            "No language model is configured. Set ANTHROPIC_API_KEY (Claude), or " +
            "MODEL_MANAGER_BASE_URL for any OpenAI-compatible server (e.g. a local Ollama at " +
            "http://127.0.0.1:11434/v1), then restart npm start.",
        }
      : {}),
    queues: { chat, archive },
    lastCheckAt: checks.reduce((latest, r) => Math.max(latest, r.checkedAt), 0) || null,
    checks: checks.map((r) => ({ component: r.component, ok: r.ok, checkedAt: r.checkedAt })),
  };
}

type Read<T> = { ok: true; value: T } | { ok: false; error: string };

async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<Read<z.infer<S>>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return { ok: false, error: "body is not JSON" };
  }
  const parsed = schema.safeParse(raw);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, error: describeIssue(parsed.error, "body") };
}

function readQuery(c: Context): Read<WebConversation> {
  const parsed = webConversationSchema.safeParse({
    user: c.req.query("user") || undefined,
    channel: c.req.query("channel") || undefined,
  });
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, error: describeIssue(parsed.error, "query") };
}
