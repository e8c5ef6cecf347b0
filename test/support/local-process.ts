import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { freePort } from "../../local/services";

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
}

const REPO = resolve(import.meta.dirname, "../..");

/**
 * Starts `local/main.ts` (what `npm start` runs) with tsx's loader in its own process group,
 * with only `env` (plus `PATH` and `HOME`) and a free `PORT`, from `cwd` (so no developer
 * `.env` is read), and resolves once `GET /health` answers 200.
 * @throws when the process exits or `/health` does not answer within `startTimeoutMs`.
 */
export async function startLocalProcess(
  env: Record<string, string>,
  options: { cwd: string; startTimeoutMs?: number },
): Promise<LocalProcess> {
  const port = await freePort();
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsx, resolve(REPO, "local/main.ts")], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? options.cwd,
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
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const output = () => lines.join("\n");
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

  return {
    url,
    output,
    async kill() {
      killGroup(child, "SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}
