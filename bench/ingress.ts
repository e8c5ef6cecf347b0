/**
 * Ingress benchmark (`npm run bench:ingress`): our Slack ingress (Hono app in `functions/http.ts`)
 * against `@slack/bolt`'s `AwsLambdaReceiver`, in one run. Prints figures and the targets from
 * the issue with PASS/MISS; never fails on time (exit 1 only when something is broken, e.g. a
 * request is not acked with 200). See docs/benchmarks.md.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { build, type Metafile } from "esbuild";
import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { createAwsClients } from "../core/compose/aws";
import { buildIngressDeps, type IngressDeps } from "../core/compose/ingress";
import { loadConfig } from "../core/config";
import { runWebhook } from "../core/ingress/pipeline";
import type { DedupeStore } from "../core/memory/dedupe";
import { ensureTable } from "../core/memory/table/table";
import { createApp, createLambdaHandler } from "../functions/http";
import {
  ensureQueueWithDlq,
  LOCAL_CREDENTIALS,
  type RunningService,
  startDynamoDbLocal,
  startSqsEmulator,
} from "../local/services";
import { type BoltLambdaEvent, createBoltApp } from "./bolt-app";
import {
  appMentionBody,
  BENCH_SLACK,
  type SignedRequest,
  signed,
  urlVerificationBody,
} from "./slack-fixtures";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** Sizes: bounded so the whole run stays well under two minutes on 2 cores. */
const MICRO = { warmup: 500, rounds: 10, perRound: 500 };
const FULL = { warmup: 100, events: 1000 };
const COLD = { warmup: 1, runs: 10 };

const TARGET_RATIO = 1 / 3;
const TARGET_BUNDLE_BYTES = 250 * 1000;
const OUR_ACK = '{"ok":true}';

// ---------------------------------------------------------------------------------------------
// Measurement helpers

interface Stats {
  n: number;
  mean: number;
  p50: number;
  p99: number;
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const at = (p: number) =>
    sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] ?? Number.NaN;
  const sum = sorted.reduce((total, x) => total + x, 0);
  return { n, mean: sum / n, p50: at(0.5), p99: at(0.99) };
}

function median(samples: readonly number[]): number {
  return stats(samples).p50;
}

/** Runs one request; throws unless it was acked the way the path under test must ack. */
type Runner = (request: SignedRequest) => Promise<void>;

async function timeEach(
  runner: Runner,
  requests: readonly SignedRequest[],
  into: number[],
): Promise<void> {
  for (const request of requests) {
    const start = process.hrtime.bigint();
    await runner(request);
    into.push(Number(process.hrtime.bigint() - start) / 1000);
  }
}

function mentions(count: number): SignedRequest[] {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, () => signed(appMentionBody(), now));
}

class NotAcked extends Error {
  override readonly name = "NotAcked";
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");
const pad = (s: string, width: number) => s.padStart(width);
const padEnd = (s: string, width: number) => s.padEnd(width);
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
const kb = (bytes: number) => `${fmt(bytes / 1000)} KB`;

// ---------------------------------------------------------------------------------------------
// (a) and Bolt: in-process, no I/O

const LAMBDA_CONTEXT = {} as LambdaContext;

function stubbedDeps(onEnqueue: () => void): IngressDeps {
  const config = loadConfig({
    env: {
      SLACK_SIGNING_SECRET: BENCH_SLACK.signingSecret,
      SLACK_BOT_USER_ID: BENCH_SLACK.botUserId,
      CHAT_QUEUE_URL: "http://127.0.0.1:9/000000000000/unused",
      LOG_LEVEL: "SILENT",
    },
  });
  const queue = {
    enqueue: async () => {
      onEnqueue();
    },
  };
  const real = buildIngressDeps(config, createAwsClients(config, LOCAL_CREDENTIALS), { queue });
  const dedupe = {
    claim: async () => true,
    release: async () => {},
  } as unknown as DedupeStore;
  return { ...real, pipeline: { ...real.pipeline, dedupe } };
}

interface MicroPath {
  label: string;
  run: Runner;
  samples: number[];
  /** Median of each interleaved round, to show how stable the comparison is. */
  roundMedians: number[];
  /** Checked after the run: the listener / queue saw every event. */
  dispatched: () => number;
}

async function runMicro(): Promise<{
  direct: MicroPath;
  ours: MicroPath;
  oursLambda: MicroPath;
  bolt: MicroPath;
}> {
  let directEnqueued = 0;
  const directDeps = stubbedDeps(() => directEnqueued++);
  const slackWebhook = directDeps.webhooks.find((route) => route.path === "/slack/events");
  if (!slackWebhook) throw new Error("no /slack/events webhook");
  let oursEnqueued = 0;
  const app = createApp(stubbedDeps(() => oursEnqueued++));
  let oursLambdaEnqueued = 0;
  const lambda = createLambdaHandler(stubbedDeps(() => oursLambdaEnqueued++));
  let boltMentions = 0;
  const { receiver } = createBoltApp({ ...BENCH_SLACK, onMention: () => boltMentions++ });
  const bolt = await receiver.start();

  const direct: MicroPath = {
    label: "(a0) ours: runWebhook(slack) only, no HTTP layer",
    samples: [],
    roundMedians: [],
    dispatched: () => directEnqueued,
    run: async ({ body, lowerCaseHeaders }) => {
      const res = await runWebhook(slackWebhook.webhook, directDeps.pipeline, {
        rawBody: body,
        headers: (name) => lowerCaseHeaders[name],
      });
      const text = JSON.stringify(res.body);
      if (res.status !== 200 || text !== OUR_ACK) {
        throw new NotAcked(`runWebhook answered ${res.status} ${text}`);
      }
    },
  };
  const ours: MicroPath = {
    label: "(a) ours: verify+parse+route, Hono app.request()",
    samples: [],
    roundMedians: [],
    dispatched: () => oursEnqueued,
    run: async ({ body, headers }) => {
      const res = await app.request("/slack/events", { method: "POST", headers, body });
      const text = await res.text();
      if (res.status !== 200 || text !== OUR_ACK) {
        throw new NotAcked(`ours answered ${res.status} ${text}, expected 200 ${OUR_ACK}`);
      }
    },
  };
  const oursLambda: MicroPath = {
    label: "(a') ours: Lambda handler (the deployed entry point)",
    samples: [],
    roundMedians: [],
    dispatched: () => oursLambdaEnqueued,
    run: async ({ lambdaEvent }) => {
      const res = (await lambda(lambdaEvent as unknown as LambdaEvent, LAMBDA_CONTEXT)) as {
        statusCode: number;
        body: string;
      };
      if (res.statusCode !== 200 || res.body !== OUR_ACK) {
        throw new NotAcked(`ours (Lambda) answered ${res.statusCode} ${res.body}`);
      }
    },
  };
  const boltPath: MicroPath = {
    label: "Bolt AwsLambdaReceiver + no-op listener",
    samples: [],
    roundMedians: [],
    dispatched: () => boltMentions,
    run: async ({ lambdaEvent }) => {
      const res = await bolt(lambdaEvent as unknown as BoltLambdaEvent, {});
      if (res.statusCode !== 200) {
        throw new NotAcked(`Bolt answered ${res.statusCode} ${res.body}, expected 200`);
      }
    },
  };

  const paths = [direct, ours, oursLambda, boltPath];
  for (const path of paths) await timeEach(path.run, mentions(MICRO.warmup), []);
  // Interleaved rounds, rotating the order, so drift (JIT, GC, thermal) hits all paths alike.
  for (let round = 0; round < MICRO.rounds; round++) {
    for (let i = 0; i < paths.length; i++) {
      const path = paths[(round + i) % paths.length] as MicroPath;
      const samples: number[] = [];
      await timeEach(path.run, mentions(MICRO.perRound), samples);
      path.samples.push(...samples);
      path.roundMedians.push(median(samples));
    }
  }
  const expected = MICRO.warmup + MICRO.rounds * MICRO.perRound;
  for (const path of paths) {
    if (path.dispatched() !== expected) {
      throw new NotAcked(`${path.label}: ${path.dispatched()} dispatches, expected ${expected}`);
    }
  }
  return { direct, ours, oursLambda, bolt: boltPath };
}

// ---------------------------------------------------------------------------------------------
// (b) full ack path against DynamoDB Local and fauxqs

async function runFull(started: RunningService[]): Promise<number[]> {
  const dynamo = await startDynamoDbLocal();
  started.push(dynamo);
  const sqsEmulator = await startSqsEmulator();
  started.push(sqsEmulator);

  const base = loadConfig({
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsEmulator.endpoint,
      MEMORY_TABLE_NAME: "bench-ingress",
      SLACK_SIGNING_SECRET: BENCH_SLACK.signingSecret,
      SLACK_BOT_USER_ID: BENCH_SLACK.botUserId,
      LOG_LEVEL: "SILENT",
    },
  });
  const aws = createAwsClients(base, LOCAL_CREDENTIALS);
  try {
    await ensureTable(aws.dynamodb, base.memoryTableName);
    const { queueUrl } = await ensureQueueWithDlq(aws.sqs, "bench-chat");
    const config = { ...base, chatQueueUrl: queueUrl };
    const app = createApp(buildIngressDeps(config, aws));
    const run: Runner = async ({ body, headers }) => {
      const res = await app.request("/slack/events", { method: "POST", headers, body });
      const text = await res.text();
      if (res.status !== 200 || text !== OUR_ACK) {
        throw new NotAcked(`full path answered ${res.status} ${text}, expected 200 ${OUR_ACK}`);
      }
    };
    await timeEach(run, mentions(FULL.warmup), []);
    const samples: number[] = [];
    await timeEach(run, mentions(FULL.events), samples);

    const attributes = await aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages"],
      }),
    );
    const queued = Number(attributes.Attributes?.ApproximateNumberOfMessages);
    if (queued !== FULL.warmup + FULL.events) {
      throw new NotAcked(`chat queue holds ${queued} jobs, expected ${FULL.warmup + FULL.events}`);
    }
    return samples;
  } finally {
    aws.dynamodb.destroy();
    aws.sqs.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Bundles

/** Makes esbuild's `require` shim work in an ESM bundle (CommonJS deps such as Bolt need it). */
const ESM_REQUIRE_BANNER =
  'import { createRequire as __benchCreateRequire } from "node:module"; ' +
  "const require = __benchCreateRequire(import.meta.url);";

interface Bundle {
  label: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  warnings: number;
  metafile: Metafile;
}

async function bundle(
  label: string,
  entry: string,
  file: string,
  external: string[],
): Promise<Bundle> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    minify: true,
    platform: "node",
    target: "node20",
    format: "esm",
    external,
    banner: { js: ESM_REQUIRE_BANNER },
    metafile: true,
    logLevel: "silent",
  });
  const code = await readFile(file);
  return {
    label,
    file,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    warnings: result.warnings.length,
    metafile: result.metafile,
  };
}

/** Bytes in the output per npm package (or per project directory for our own files). */
function contributors(metafile: Metafile): { name: string; bytes: number; files: number }[] {
  const output = Object.values(metafile.outputs)[0];
  const byName = new Map<string, { bytes: number; files: number }>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = owner(path);
    const entry = byName.get(name) ?? { bytes: 0, files: 0 };
    entry.bytes += bytesInOutput;
    entry.files += 1;
    byName.set(name, entry);
  }
  return [...byName.entries()]
    .map(([name, v]) => ({ name, ...v }))
    .sort((a, b) => b.bytes - a.bytes);
}

function owner(path: string): string {
  const at = path.lastIndexOf("node_modules/");
  if (at < 0) {
    const dir = path.split("/").slice(0, -1).join("/");
    return `(project) ${dir || "."}/`;
  }
  const parts = path.slice(at + "node_modules/".length).split("/");
  return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
}

// ---------------------------------------------------------------------------------------------
// Cold import: fresh node processes

/** Runs in each child: import the module, then (if it has a handler) one first request. */
const CHILD = `
const t0 = performance.now();
const mod = await import(process.env.BENCH_MODULE);
const importMs = performance.now() - t0;
let firstMs = null;
let status = null;
if (process.env.BENCH_EVENT && typeof mod.handler === "function") {
  const event = JSON.parse(process.env.BENCH_EVENT);
  const t1 = performance.now();
  const res = await mod.handler(event, {});
  firstMs = performance.now() - t1;
  status = res.statusCode;
}
process.stdout.write(JSON.stringify({ importMs, firstMs, status, sinceStartMs: performance.now() }) + "\\n");
`;

interface ColdModule {
  label: string;
  file: string;
  /** Whether it exports a Lambda `handler` to send the first request to. */
  handler: boolean;
  importMs: number[];
  firstMs: number[];
  /** import + first request, per run. */
  readyMs: number[];
  wallMs: number[];
}

async function coldRun(
  module: ColdModule,
): Promise<{ importMs: number; firstMs: number | null; wallMs: number }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    BENCH_MODULE: pathToFileURL(module.file).href,
    // What the two handlers need at module level or on the first request; no network is used.
    SLACK_SIGNING_SECRET: BENCH_SLACK.signingSecret,
    SLACK_BOT_TOKEN: BENCH_SLACK.botToken,
    SLACK_BOT_ID: BENCH_SLACK.botId,
    SLACK_BOT_USER_ID: BENCH_SLACK.botUserId,
    CHAT_QUEUE_URL: "http://127.0.0.1:9/000000000000/unused",
    AWS_REGION: "us-east-1",
    LOG_LEVEL: "SILENT",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  if (module.handler) env.BENCH_EVENT = JSON.stringify(signed(urlVerificationBody()).lambdaEvent);
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await new Promise<number | null>((done, fail) => {
    child.once("error", fail);
    child.once("exit", (exitCode) => done(exitCode));
  });
  clearTimeout(timer);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const line = stdout.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !line) {
    throw new Error(`cold import of ${module.label} failed (exit ${code}): ${stderr.slice(-2000)}`);
  }
  const result = JSON.parse(line) as {
    importMs: number;
    firstMs: number | null;
    status: number | null;
  };
  if (module.handler && result.status !== 200) {
    throw new NotAcked(`${module.label}: first request answered ${result.status}, expected 200`);
  }
  return { importMs: result.importMs, firstMs: result.firstMs, wallMs };
}

async function runCold(modules: ColdModule[]): Promise<void> {
  for (const module of modules) {
    for (let i = 0; i < COLD.warmup; i++) await coldRun(module);
  }
  for (let i = 0; i < COLD.runs; i++) {
    for (const module of modules) {
      const run = await coldRun(module);
      module.importMs.push(run.importMs);
      if (run.firstMs !== null) {
        module.firstMs.push(run.firstMs);
        module.readyMs.push(run.importMs + run.firstMs);
      }
      module.wallMs.push(run.wallMs);
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started: RunningService[] = [];
  let stopping: Promise<unknown> | undefined;
  const stopServices = () => {
    stopping ??= Promise.allSettled(started.reverse().map((s) => s.stop()));
    return stopping;
  };
  const onSignal = () => {
    void stopServices().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // The AWS SDK warns once that Node 20 support ends in 2027; that is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const work = await mkdtemp(join(tmpdir(), "bench-ingress-"));
  const began = performance.now();

  try {
    const cpu = cpus();
    console.log("Ingress benchmark: our Hono ingress vs @slack/bolt AwsLambdaReceiver");
    console.log(
      `Node ${process.version} · ${process.platform}/${process.arch} · ${cpu.length} × ${cpu[0]?.model ?? "cpu"} · ${fmt(totalmem() / 2 ** 30)} GiB`,
    );
    console.log(
      "Logging silenced for both: ours LOG_LEVEL=SILENT (Powertools Logger), Bolt a no-op logger.",
    );
    const sample = appMentionBody();
    console.log(
      `Request: signed app_mention event_callback, ${sample.length} B body, unique event_id each.`,
    );

    // (a) + Bolt
    const micro = await runMicro();
    // (b)
    const full = await runFull(started);
    await stopServices();

    // Bundles
    const ingressBundle = await bundle(
      "ours: functions/http.ts",
      "functions/http.ts",
      join(work, "ingress.mjs"),
      ["@aws-sdk/*"],
    );
    const ingressWithSdk = await bundle(
      "ours, AWS SDK bundled in (info)",
      "functions/http.ts",
      join(work, "ingress-with-sdk.mjs"),
      [],
    );
    const boltBundle = await bundle(
      "Bolt: bench/bolt-handler.ts",
      "bench/bolt-handler.ts",
      join(work, "bolt.mjs"),
      ["@aws-sdk/*"],
    );

    // Cold import. The bundles leave @aws-sdk/* external, as the Lambda runtime provides it:
    // link the repo's node_modules next to them so the children resolve the same SDK.
    await symlink(join(ROOT, "node_modules"), join(work, "node_modules"), "dir");
    await writeFile(join(work, "empty.mjs"), "");
    await writeFile(
      join(work, "aws-sdk-only.mjs"),
      'import "@aws-sdk/client-dynamodb";\nimport "@aws-sdk/client-sqs";\nimport "@aws-sdk/lib-dynamodb";\n',
    );
    const cold = (label: string, file: string, handler: boolean): ColdModule => ({
      label,
      file,
      handler,
      importMs: [],
      firstMs: [],
      readyMs: [],
      wallMs: [],
    });
    const coldOurs = cold("ours: functions/http.ts bundle", ingressBundle.file, true);
    const coldBolt = cold("Bolt: bench/bolt-handler.ts bundle", boltBundle.file, true);
    const coldModules = [
      cold("node baseline (empty module)", join(work, "empty.mjs"), false),
      cold("AWS SDK clients only (node_modules)", join(work, "aws-sdk-only.mjs"), false),
      coldOurs,
      cold("ours, AWS SDK bundled in (info)", ingressWithSdk.file, true),
      coldBolt,
    ];
    await runCold(coldModules);

    // -----------------------------------------------------------------------------------------
    // Report
    const boltStats = stats(micro.bolt.samples);
    const rows: [string, Stats][] = [
      [micro.direct.label, stats(micro.direct.samples)],
      [micro.ours.label, stats(micro.ours.samples)],
      [micro.oursLambda.label, stats(micro.oursLambda.samples)],
      [micro.bolt.label, boltStats],
      ["(b) ours: full ack path (DynamoDB Local + fauxqs)", stats(full)],
    ];
    console.log("");
    console.log(
      `Per event, sequential (µs); (a)/(a')/Bolt: ${MICRO.warmup} warm-up + ${MICRO.rounds}×${MICRO.perRound} interleaved; (b): ${FULL.warmup} warm-up + ${FULL.events}`,
    );
    console.log(
      `${padEnd("path", 52)}${pad("events", 7)}${pad("mean", 9)}${pad("p50", 9)}${pad("p99", 9)}${pad("mean/Bolt", 11)}${pad("p50/Bolt", 10)}`,
    );
    for (const [label, s] of rows) {
      console.log(
        `${padEnd(label, 52)}${pad(String(s.n), 7)}${pad(fmt(s.mean), 9)}${pad(fmt(s.p50), 9)}${pad(fmt(s.p99), 9)}${pad(fmt(s.mean / boltStats.mean, 2), 11)}${pad(fmt(s.p50 / boltStats.p50, 2), 10)}`,
      );
    }
    const roundRatios = micro.ours.roundMedians.map(
      (m, i) => m / (micro.bolt.roundMedians[i] ?? m),
    );
    console.log(
      `(a)/Bolt p50 ratio per interleaved round: min ${fmt(Math.min(...roundRatios), 2)}, max ${fmt(Math.max(...roundRatios), 2)} (${MICRO.rounds} rounds)`,
    );
    console.log(
      "(b) adds a DynamoDB conditional put and an SQS send per event; Bolt does neither.",
    );

    console.log("");
    console.log("Bundles (esbuild: bundle, minify, platform node, target node20, format esm)");
    console.log(
      `${padEnd("bundle", 40)}${pad("minified", 12)}${pad("gzip", 11)}${pad("vs Bolt", 9)}`,
    );
    for (const b of [ingressBundle, ingressWithSdk, boltBundle]) {
      console.log(
        `${padEnd(b.label, 40)}${pad(kb(b.bytes), 12)}${pad(kb(b.gzipBytes), 11)}${pad(fmt(b.bytes / boltBundle.bytes, 2), 9)}${b.warnings ? `  (${b.warnings} esbuild warnings)` : ""}`,
      );
    }
    console.log('external: ["@aws-sdk/*"] (the Lambda Node.js runtime provides AWS SDK v3)');
    for (const [b, top] of [
      [ingressBundle, 12],
      [boltBundle, 8],
    ] as const) {
      console.log(`Top contributors, ${b.label} (bytes in minified output):`);
      for (const c of contributors(b.metafile).slice(0, top)) {
        console.log(
          `  ${padEnd(c.name, 42)}${pad(kb(c.bytes), 11)}${pad(`${fmt((100 * c.bytes) / b.bytes)}%`, 7)}${pad(String(c.files), 5)} files`,
        );
      }
    }

    console.log("");
    console.log(
      `Cold start: median of ${COLD.runs} fresh node processes each (alternating, after ${COLD.warmup} discarded), ms`,
    );
    console.log(
      `${padEnd("module", 40)}${pad("import", 9)}${pad("1st req", 9)}${pad("imp+1st", 9)}${pad("wall", 9)}${pad("import/Bolt", 13)}${pad("imp+1st/Bolt", 14)}`,
    );
    const boltImport = median(coldBolt.importMs);
    const boltReady = median(coldBolt.readyMs);
    for (const m of coldModules) {
      const first = m.firstMs.length ? fmt(median(m.firstMs)) : "-";
      const ready = m.readyMs.length ? fmt(median(m.readyMs)) : "-";
      const readyRatio = m.readyMs.length ? fmt(median(m.readyMs) / boltReady, 2) : "-";
      console.log(
        `${padEnd(m.label, 40)}${pad(fmt(median(m.importMs)), 9)}${pad(first, 9)}${pad(ready, 9)}${pad(fmt(median(m.wallMs)), 9)}${pad(fmt(median(m.importMs) / boltImport, 2), 13)}${pad(readyRatio, 14)}`,
      );
    }
    console.log(
      "import = performance.now() around import(); 1st req = first handler call with a signed",
    );
    console.log(
      "url_verification (ours builds config, AWS clients and app here); wall = spawn to exit.",
    );

    // Like for like: our Lambda entry point and Bolt's both start from the same Lambda event.
    const oursMean = stats(micro.oursLambda.samples).mean;
    const oursImport = median(coldOurs.importMs);
    const microRatio = oursMean / boltStats.mean;
    const importRatio = oursImport / boltImport;
    console.log("");
    console.log("Targets (informational; this benchmark never fails on time)");
    console.log(
      `  verify+parse+route ≤ 1/3 of Bolt µs/event (a'): ${fmt(oursMean)} vs ${fmt(boltStats.mean)} µs mean = ${fmt(microRatio, 2)}× → ${verdict(microRatio <= TARGET_RATIO)}`,
    );
    console.log(
      `  ingress bundle ≤ 250 KB minified:          ${kb(ingressBundle.bytes)} → ${verdict(ingressBundle.bytes <= TARGET_BUNDLE_BYTES)}`,
    );
    console.log(
      `  cold import ≤ 1/3 of Bolt's:               ${fmt(oursImport)} vs ${fmt(boltImport)} ms median = ${fmt(importRatio, 2)}× → ${verdict(importRatio <= TARGET_RATIO)}`,
    );
    console.log(
      `(1 KB = 1000 bytes) · total bench time ${fmt((performance.now() - began) / 1000)} s`,
    );
  } finally {
    await stopServices();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    // Drop the node_modules link first, so removing the temp dir can never reach the repo's.
    await unlink(join(work, "node_modules")).catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error("bench:ingress failed:", error);
  process.exitCode = 1;
});
