/**
 * Cold starts for `npm run bench:ingress`: fresh `node` processes that import a bundle and send
 * its Lambda `handler` one first request, and the bundles as `sst deploy` builds them. See
 * docs/benchmarks.md ("Cold start" and "Cold start: import + first mention").
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { deployedBuildOptions } from "../infra/bundling";
import { BENCH_SLACK } from "./slack-fixtures";

/** Runs in each child: import the module, then (if it has a handler) one first request. */
const CHILD = `
const t0 = performance.now();
const mod = await import(process.env.BENCH_MODULE);
const importMs = performance.now() - t0;
let firstMs = null;
let status = null;
let body = null;
if (process.env.BENCH_EVENT && typeof mod.handler === "function") {
  const event = JSON.parse(process.env.BENCH_EVENT);
  const t1 = performance.now();
  const res = await mod.handler(event, {});
  firstMs = performance.now() - t1;
  status = res.statusCode;
  body = res.body;
}
process.stdout.write(JSON.stringify({ importMs, firstMs, status, body }) + "\\n");
`;

/** What every child gets: the two handlers' Slack settings, a region, silenced logs. */
const BASE_ENV = {
  SLACK_SIGNING_SECRET: BENCH_SLACK.signingSecret,
  SLACK_BOT_TOKEN: BENCH_SLACK.botToken,
  SLACK_BOT_ID: BENCH_SLACK.botId,
  SLACK_BOT_USER_ID: BENCH_SLACK.botUserId,
  CHAT_QUEUE_URL: "http://127.0.0.1:9/000000000000/unused",
  AWS_REGION: "us-east-1",
  LOG_LEVEL: "SILENT",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

/** One module measured by fresh processes, with the samples gathered so far (ms). */
export interface ColdModule {
  label: string;
  file: string;
  /** The first request's Lambda event, made anew for each process; none: import only. */
  firstEvent?: () => unknown;
  /** The first request's expected answer body, when it must match exactly. */
  expectBody?: string;
  /** Variables added to (or replacing) {@link BASE_ENV}. */
  env?: Record<string, string>;
  importMs: number[];
  firstMs: number[];
  /** import + first request, per process. */
  readyMs: number[];
  /** spawn to exit, as seen by the parent. */
  wallMs: number[];
}

/** A {@link ColdModule} with no samples yet. */
export function coldModule(
  label: string,
  file: string,
  options: Pick<ColdModule, "firstEvent" | "expectBody" | "env"> = {},
): ColdModule {
  return { label, file, ...options, importMs: [], firstMs: [], readyMs: [], wallMs: [] };
}

/** A cold process that did not answer its first request as expected. */
export class ColdRequestFailed extends Error {
  override readonly name = "ColdRequestFailed";
}

async function coldRun(
  module: ColdModule,
): Promise<{ importMs: number; firstMs: number | null; wallMs: number }> {
  // A minimal environment: no NODE_OPTIONS, nothing from the parent beyond PATH.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    BENCH_MODULE: pathToFileURL(module.file).href,
    ...BASE_ENV,
    ...module.env,
  };
  if (module.firstEvent) env.BENCH_EVENT = JSON.stringify(module.firstEvent());
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
    body: string | null;
  };
  if (module.firstEvent) {
    const bodyOk = module.expectBody === undefined || result.body === module.expectBody;
    if (result.status !== 200 || !bodyOk) {
      throw new ColdRequestFailed(
        `${module.label}: first request answered ${result.status} ${result.body}, expected 200${module.expectBody ? ` ${module.expectBody}` : ""}`,
      );
    }
  }
  return { importMs: result.importMs, firstMs: result.firstMs, wallMs };
}

/**
 * Runs `warmup` discarded processes per module, then `runs` rounds of one process per module
 * (alternating, so drift and noisy neighbours hit every module alike), recording the samples.
 * @returns how many first requests were sent in all (warm-ups included), per module label.
 * @throws {ColdRequestFailed} when a first request is not answered as expected.
 */
export async function runCold(
  modules: ColdModule[],
  sizes: { warmup: number; runs: number },
): Promise<Map<string, number>> {
  const sent = new Map<string, number>();
  const count = (module: ColdModule) => {
    if (module.firstEvent) sent.set(module.label, (sent.get(module.label) ?? 0) + 1);
  };
  for (const module of modules) {
    for (let i = 0; i < sizes.warmup; i++) {
      await coldRun(module);
      count(module);
    }
  }
  for (let i = 0; i < sizes.runs; i++) {
    for (const module of modules) {
      const run = await coldRun(module);
      count(module);
      module.importMs.push(run.importMs);
      if (run.firstMs !== null) {
        module.firstMs.push(run.firstMs);
        module.readyMs.push(run.importMs + run.firstMs);
      }
      module.wallMs.push(run.wallMs);
    }
  }
  return sent;
}

/** A function built as `sst deploy` builds it (`deployedBuildOptions`). */
export interface DeployedBundle {
  label: string;
  /** The entry chunk, `bundle.mjs`: what the Lambda runtime imports. */
  file: string;
  /** Output files and their bytes, all chunks. */
  files: number;
  bytes: number;
  /** The files and bytes an import of `bundle.mjs` loads (static imports, transitively). */
  importFiles: number;
  importBytes: number;
}

/**
 * Builds `entry` into `outdir` with the deployment's esbuild options (AWS SDK bundled in,
 * module-first resolution, code splitting, minified) and measures its chunks.
 */
export async function deployedBundle(
  label: string,
  root: string,
  entry: string,
  outdir: string,
): Promise<DeployedBundle> {
  const result = await build({
    ...deployedBuildOptions(entry, outdir),
    absWorkingDir: root,
    metafile: true,
    logLevel: "silent",
  });
  const outputs = result.metafile.outputs;
  const byName = new Map(Object.keys(outputs).map((path) => [basename(path), path]));
  const entryPath = byName.get("bundle.mjs");
  if (!entryPath) throw new Error(`${label}: esbuild wrote no bundle.mjs`);
  const loaded = new Set<string>();
  const pending = [entryPath];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (loaded.has(path)) continue;
    loaded.add(path);
    for (const imported of outputs[path]?.imports ?? []) {
      const chunk = byName.get(basename(imported.path));
      if (imported.kind === "import-statement" && !imported.external && chunk) pending.push(chunk);
    }
  }
  const sizes = await Promise.all(
    Object.keys(outputs)
      .filter((path) => !path.endsWith(".map"))
      .map(async (path) => ({ path, bytes: (await readFile(resolve(root, path))).length })),
  );
  return {
    label,
    file: join(outdir, "bundle.mjs"),
    files: sizes.length,
    bytes: sizes.reduce((sum, { bytes }) => sum + bytes, 0),
    importFiles: loaded.size,
    importBytes: sizes
      .filter(({ path }) => loaded.has(path))
      .reduce((sum, { bytes }) => sum + bytes, 0),
  };
}
