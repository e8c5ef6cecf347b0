import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ChatJob, chatJobSchema } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import type { Config } from "../../core/config";
import { CONVERSATION_ID_MAX_CHARS, KEY_ID_MAX_BYTES } from "../../core/constants/limits";
import type { createApp } from "../../functions/http";
import { queueDepth } from "../support/aws";
import {
  askInteraction,
  type DiscordTestKeys,
  pingInteraction,
  snowflakeAt,
} from "../support/discord";
import { captureLog } from "../support/log-capture";
import { appMentionEnvelope } from "../support/slack";
import {
  deeplyNested,
  EDGE_DISCORD_BOT,
  EDGE_SLACK_BOT,
  type EdgeIngress,
  signFor,
  startEdgeIngress,
  type WebhookPath,
  withRawJson,
} from "../support/webhooks";

/** The seed every property runs with; change it to explore, keep it fixed in the suite. */
const SEED = 1313;

const PATHS: readonly WebhookPath[] = ["/slack/events", "/discord/interactions", "/kadi/events"];

/** Filler of over-long strings, and the marker of nested values: never to be seen in a log. */
const FILLER = "ZQ";
const DEEP_MARKER = "__DEEP__";

let aws: AwsClients;
let config: Config;
let keys: DiscordTestKeys;
let app: ReturnType<typeof createApp>;
let ingress: EdgeIngress;
const log = captureLog("properties");
let enqueued: ChatJob[] = [];
/** Outcomes of every request, for the summary printed at the end (docs/reliability/edge.md). */
const tally = new Map<string, number>();

beforeAll(async () => {
  ingress = await startEdgeIngress("props", log.logger);
  ({ aws, config, keys, app, enqueued } = ingress);
});

beforeEach(async () => {
  await ingress.reset();
});

afterAll(() => {
  const rows = [...tally.entries()].sort(([a], [b]) => a.localeCompare(b));
  console.info(
    `webhook properties (seed ${SEED}):\n${rows.map(([k, n]) => `  ${k}: ${n}`).join("\n")}`,
  );
});

/** Whether `body` is the answer that goes with an enqueued job on `path`. */
function isQueuedAnswer(path: WebhookPath, body: unknown): boolean {
  const json = JSON.stringify(body);
  return path === "/discord/interactions" ? json === '{"type":5}' : json === '{"ok":true}';
}

/**
 * Posts `body` signed for `path` and checks the invariants of every answer; resolves with the
 * status. `suite` names the tally row.
 */
async function postAndCheck(suite: string, path: WebhookPath, body: string | Uint8Array) {
  const before = enqueued.length;
  const logBefore = log.lines.length;
  const res = await app.request(path, {
    method: "POST",
    body,
    headers: signFor(path, body, keys),
  });
  const text = await res.text();
  const added = enqueued.slice(before);
  const row = `${suite} ${path} ${res.status}${added.length ? " queued" : ""}`;
  tally.set(row, (tally.get(row) ?? 0) + 1);

  expect(res.status, text).toBeLessThan(500);
  expect([200, 400, 401, 413]).toContain(res.status);
  // Answers name fields, never echo values: short, whatever was sent.
  expect(text.length).toBeLessThan(4096);
  const answer = JSON.parse(text) as unknown;
  expect(added.length).toBeLessThanOrEqual(1);
  if (added.length === 1) {
    expect(res.status).toBe(200);
    expect(isQueuedAnswer(path, answer), text).toBe(true);
    const job = chatJobSchema.parse(added[0]);
    expect(job.conversation.channelId.length).toBeLessThanOrEqual(CONVERSATION_ID_MAX_CHARS);
    expect(job.conversation.userId.length).toBeLessThanOrEqual(CONVERSATION_ID_MAX_CHARS);
    expect(Buffer.byteLength(job.jobId)).toBeLessThanOrEqual(KEY_ID_MAX_BYTES);
  } else if (res.status === 200 && path !== "/discord/interactions") {
    // Slack's and KĀDI's 200 without a job says why: ignored or a duplicate.
    expect(isQueuedAnswer(path, answer), text).toBe(false);
  }
  for (const line of log.lines.slice(logBefore)) {
    expect(line.length).toBeLessThan(4096);
    expect(line).not.toContain(FILLER.repeat(40));
    expect(line).not.toContain("[[[[");
  }
  log.lines.length = 0;
  return res.status;
}

/** After a property: what the ingress says it enqueued is exactly what the queue holds. */
async function expectQueueMatches() {
  const depth = await queueDepth(aws.sqs, config.chatQueueUrl as string, { inFlight: true });
  expect(depth).toBe(enqueued.length);
}

// ---- real envelopes, fresh ids per run ------------------------------------------------------

let counter = 0;
const freshTs = () =>
  `${Math.floor(Date.now() / 1000)}.${String(++counter % 1_000_000).padStart(6, "0")}`;

/** A real payload of each kind, with fresh ids, and the webhook it goes to. */
const ENVELOPES: Record<string, { path: WebhookPath; make: () => Record<string, unknown> }> = {
  "slack app_mention": {
    path: "/slack/events",
    make: () =>
      appMentionEnvelope({
        eventId: `Ev${Date.now()}${++counter}`,
        text: "what is the plan?",
        botUserId: EDGE_SLACK_BOT,
        ts: freshTs(),
      }),
  },
  "slack im file_share": {
    path: "/slack/events",
    make: () => {
      const ts = freshTs();
      return {
        token: "t",
        team_id: "T0TEST",
        api_app_id: "A0TEST",
        type: "event_callback",
        event_id: `Ev${Date.now()}${++counter}`,
        event_time: 1_700_000_000,
        event: {
          type: "message",
          subtype: "file_share",
          channel_type: "im",
          user: "U0USER",
          text: "see attached",
          ts,
          channel: "D0DM",
          files: [{ name: "report.pdf", title: "Report" }, { title: "photo" }],
          thread_ts: ts,
        },
      };
    },
  },
  "slack url_verification": {
    path: "/slack/events",
    make: () => ({ token: "t", type: "url_verification", challenge: "3eZbrw1aBm2rZgRNFdxV2595E" }),
  },
  "discord /ask": {
    path: "/discord/interactions",
    make: () => askInteraction("what is the plan?", { id: snowflakeAt(), model: "haiku" }),
  },
  "discord ping": { path: "/discord/interactions", make: () => pingInteraction() },
  "kadi slack mention": {
    path: "/kadi/events",
    make: () => {
      const ts = freshTs();
      return {
        channel: `slack.app_mention.${EDGE_SLACK_BOT}`,
        data: {
          id: ts,
          user: "U0ALICE",
          text: `<@${EDGE_SLACK_BOT}> what is the plan?`,
          channel: "C0CHAN",
          thread_ts: ts,
          ts,
          bot_id: EDGE_SLACK_BOT,
          timestamp: new Date().toISOString(),
        },
      };
    },
  },
  "kadi discord mention": {
    path: "/kadi/events",
    make: () => ({
      channel: `discord.mention.${EDGE_DISCORD_BOT}`,
      data: {
        eventName: "discord.mention",
        data: {
          id: snowflakeAt(),
          user: "800000000000000008",
          username: "alice",
          text: `<@${EDGE_DISCORD_BOT}> what is the plan?`,
          channel: "900000000000000009",
          channelName: "general",
          guild: "700000000000000007",
          bot_id: EDGE_DISCORD_BOT,
          timestamp: new Date().toISOString(),
        },
      },
    }),
  },
};

type Segment = string | number;

/** Every path into `value` (inner nodes and leaves), the root excluded. */
function pathsOf(value: unknown, prefix: Segment[] = []): Segment[][] {
  if (typeof value !== "object" || value === null) return [];
  const entries: [Segment, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

/** What to do to the value at a path. */
type Mutation =
  | { kind: "drop" }
  | { kind: "set"; value: unknown }
  | { kind: "deep" }
  | { kind: "wrap"; before: string; after: string };

/** Strings that break naive code: astral characters, controls, lone surrogates, bidi, ZWJ. */
const nastyText = fc
  .array(
    fc.constantFrom(
      "😀",
      "𝔼",
      "👩‍👩‍👧‍👦",
      "\uFFFF",
      "\uFFFE",
      "\u0000",
      "\u001b[31m",
      "\ud800",
      "\udfff",
      "\u202e",
      "\u2028",
      "<@U0USER>",
      "<@",
      "%s",
      '"',
      "\\",
      " ",
    ),
    { minLength: 1, maxLength: 40 },
  )
  .map((parts) => parts.join(""));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: "drop" }),
  fc.constant<Mutation>({ kind: "set", value: null }),
  fc.constant<Mutation>({ kind: "deep" }),
  fc
    .constantFrom(0, -1, 1.5, 2 ** 53, 1e308, true, false, "", [], {}, [1, "a"], { a: 1 })
    .map((value): Mutation => ({ kind: "set", value })),
  fc
    .constantFrom(65, 129, 1001, 2049, 4097, 6001, 40_001, 300_000)
    .map((length): Mutation => ({ kind: "set", value: FILLER.repeat(Math.ceil(length / 2)) })),
  nastyText.map((value): Mutation => ({ kind: "set", value })),
  fc
    .tuple(nastyText, nastyText)
    .map(([before, after]): Mutation => ({ kind: "wrap", before, after })),
  fc.jsonValue({ maxDepth: 3 }).map((value): Mutation => ({ kind: "set", value })),
  fc.string({ unit: "binary", maxLength: 80 }).map((value): Mutation => ({ kind: "set", value })),
);

/** `payload` with `changes` applied in order (paths that no longer exist are skipped). */
function mutate(payload: unknown, changes: [Segment[], Mutation][]): unknown {
  const root = structuredClone(payload) as Record<Segment, unknown>;
  for (const [path, change] of changes) {
    let parent: unknown = root;
    for (const segment of path.slice(0, -1)) {
      parent = (parent as Record<Segment, unknown> | null)?.[segment];
      if (typeof parent !== "object" || parent === null) break;
    }
    if (typeof parent !== "object" || parent === null) continue;
    const key = path[path.length - 1] as Segment;
    const holder = parent as Record<Segment, unknown>;
    if (!(key in holder)) continue;
    switch (change.kind) {
      case "drop":
        if (Array.isArray(holder)) holder.splice(Number(key), 1);
        else delete holder[key];
        break;
      case "set":
        holder[key] = change.value;
        break;
      case "deep":
        holder[key] = DEEP_MARKER;
        break;
      case "wrap":
        holder[key] =
          typeof holder[key] === "string"
            ? `${change.before}${holder[key]}${change.after}`
            : holder[key];
        break;
    }
  }
  return root;
}

// ---- the properties ---------------------------------------------------------------------------

const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.string({ unit: "binary", maxLength: 512 }).map((s) => new Uint8Array(Buffer.from(s))),
  // Near-JSON: a JSON text with bytes flipped.
  fc
    .tuple(fc.jsonValue({ maxDepth: 2 }), fc.array(fc.nat(), { maxLength: 3 }), fc.nat(255))
    .map(([value, positions, byte]) => {
      const bytes = new Uint8Array(Buffer.from(JSON.stringify(value) ?? "null"));
      for (const p of positions) if (bytes.length) bytes[p % bytes.length] = byte;
      return bytes;
    }),
);

describe("webhook properties (fast-check, fixed seed)", () => {
  it("any byte string: never a 5xx, nothing enqueued", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), anyBytes, async (path, bytes) => {
        const before = enqueued.length;
        const status = await postAndCheck("bytes", path, bytes);
        expect(status).toBeGreaterThanOrEqual(200);
        expect(enqueued.length).toBe(before);
      }),
      { seed: SEED, numRuns: 150 },
    );
    await expectQueueMatches();
  });

  it("any JSON value: never a 5xx, nothing enqueued", async () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      // Objects with the webhooks' own keys, so parsing goes past the first check.
      fc.record(
        {
          type: fc.oneof(
            fc.constantFrom("event_callback", "url_verification", "app_rate_limited"),
            fc.integer({ min: 0, max: 6 }),
            fc.string(),
          ),
          channel: fc.oneof(fc.string(), fc.constant(`slack.app_mention.${EDGE_SLACK_BOT}`)),
          data: fc.jsonValue({ maxDepth: 3 }),
          event: fc.jsonValue({ maxDepth: 3 }),
          challenge: fc.jsonValue({ maxDepth: 1 }),
          id: fc.oneof(fc.string(), fc.constant("1300000000000000001")),
          application_id: fc.constant("1200000000000000001"),
          token: fc.string(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), value, async (path, json) => {
        const before = enqueued.length;
        await postAndCheck("json", path, JSON.stringify(json) ?? "null");
        expect(enqueued.length).toBe(before);
      }),
      { seed: SEED, numRuns: 200 },
    );
    await expectQueueMatches();
  });

  it.each(Object.keys(ENVELOPES))(
    "any mutation of a real %s: never a 5xx; enqueued only when answered so, and valid",
    async (name) => {
      const envelope = ENVELOPES[name] as (typeof ENVELOPES)[string];
      const paths = pathsOf(envelope.make());
      const changes = fc.array(fc.tuple(fc.constantFrom(...paths), mutation), {
        minLength: 1,
        maxLength: 3,
      });
      await fc.assert(
        fc.asyncProperty(changes, async (list) => {
          const payload = mutate(envelope.make(), list);
          const body = withRawJson(payload, DEEP_MARKER, deeplyNested(10_000));
          await postAndCheck("mutation", envelope.path, body);
        }),
        { seed: SEED, numRuns: 100 },
      );
      await expectQueueMatches();
    },
  );

  it("the unmutated envelopes are accepted (the properties start from valid payloads)", async () => {
    for (const [name, envelope] of Object.entries(ENVELOPES)) {
      const status = await postAndCheck("baseline", envelope.path, JSON.stringify(envelope.make()));
      expect(status, name).toBe(200);
    }
    // Five of the seven enqueue a job; url_verification and PING are answered inline.
    expect(enqueued).toHaveLength(5);
    await expectQueueMatches();
  });
});
