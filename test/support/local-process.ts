import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { freePort } from "../../local/services";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { TEST_SIGNING_SECRET } from "./slack";

/** What an `npm start` child talks to in a test: see {@link startLocalProcessFakes}. */
export interface LocalProcessFakes {
  anthropic: FakeAnthropic;
  slack: FakeSlack;
  /** A new temporary directory, the child's `cwd`; its `DATA_DIR` is `{dir}/data`. */
  dir: string;
  /**
   * The child's environment: `DATA_DIR`, the fakes' URLs and keys, the test signing secret,
   * `LOG_LEVEL=INFO`, then `extra`.
   */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Closes the fakes and removes `dir`. */
  close(): Promise<void>;
}

/**
 * Starts the wire-level Anthropic and Slack fakes (key `sk-ant-{name}`, bot token
 * `xoxb-{name}`, bot user `botUserId`) and makes a temporary directory `local-{name}-*`.
 */
export async function startLocalProcessFakes(
  name: string,
  botUserId: string,
): Promise<LocalProcessFakes> {
  const key = `sk-ant-${name}`;
  const token = `xoxb-${name}`;
  const anthropic = await startFakeAnthropic({ apiKey: key });
  const slack = await startFakeSlack({ token, botUserId });
  const dir = await mkdtemp(join(tmpdir(), `local-${name}-`));
  return {
    anthropic,
    slack,
    dir,
    env: (extra = {}) => ({
      DATA_DIR: join(dir, "data"),
      ANTHROPIC_API_KEY: key,
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: token,
      SLACK_BOT_USER_ID: botUserId,
      SLACK_API_URL: slack.url,
      LOG_LEVEL: "INFO",
      ...extra,
    }),
    async close() {
      await Promise.all([anthropic.close(), slack.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `npm start` running as a child process, as an operator runs it. */
export interface LocalProcess {
  /** `http://127.0.0.1:{port}` of its ingress. */
  url: string;
  /** Its stdout and stderr so far (the last 400 lines), for failure messages. */
  output(): string;
  /** SIGKILL to the whole process group: Node and the DynamoDB Local it started die at once. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop); SIGKILL to the group if it has not exited after 15 s. */
  stop(): Promise<void>;
  /**
   * Sends `signal` (Ctrl-C is SIGINT) and resolves with the exit code once it exited (null if
   * a signal ended it); SIGKILL to the group if it has not exited after 15 s.
   */
  interrupt(signal?: NodeJS.Signals): Promise<number | null>;
}

const REPO = resolve(import.meta.dirname, "../..");

/**
 * Starts `local/main.ts` (what `npm start` runs) with tsx's loader in its own process group,
 * with only `env` (plus `PATH` and `HOME`) and a free `PORT` (or `options.port`), from `cwd`
 * (so no developer `.env` is read), and resolves once `GET /health` answers 200.
 * @throws when the process exits or `/health` does not answer within `startTimeoutMs`.
 */
export async function startLocalProcess(
  env: Record<string, string>,
  options: { cwd: string; port?: number; startTimeoutMs?: number },
): Promise<LocalProcess> {
  const port = options.port ?? (await freePort());
  const { child, output, exited } = spawnMain(env, options.cwd, port);
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`local stack exited during start:\n${output()}`);
    }
    const healthy = await fetch(`${url}/health`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      killGroup(child, "SIGKILL");
      throw new Error(`local stack did not answer /health:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  const signalAndWait = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    url,
    output,
    async kill() {
      killGroup(child, "SIGKILL");
      await exited;
    },
    async stop() {
      await signalAndWait("SIGTERM");
    },
    interrupt: (signal = "SIGINT") => signalAndWait(signal),
  };
}

/**
 * Runs `local/main.ts` as {@link startLocalProcess} does, on `options.port`, until it exits on
 * its own (a start that fails), and resolves with its exit code and output.
 * @throws when it is still running after `timeoutMs` (default 60 000 ms); it is killed.
 */
export async function runLocalProcessToExit(
  env: Record<string, string>,
  options: { cwd: string; port: number; timeoutMs?: number },
): Promise<{ code: number | null; output: string }> {
  const { child, output, exited } = spawnMain(env, options.cwd, options.port);
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), options.timeoutMs ?? 60_000);
  const code = await exited;
  clearTimeout(timer);
  if (code === null) throw new Error(`local stack did not exit on its own:\n${output()}`);
  return { code, output: output() };
}

function spawnMain(env: Record<string, string>, cwd: string, port: number) {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsx, resolve(REPO, "local/main.ts")], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? cwd,
      ...env,
      PORT: String(port),
    },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split("\n"));
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return { child, output: () => lines.join("\n"), exited };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}
