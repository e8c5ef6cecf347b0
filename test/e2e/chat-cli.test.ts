import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger";
import { announceConsole } from "../../local/console";
import { freePort } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { testAws, testConfig } from "../support/aws";
import { waitFor } from "../support/wait";

/**
 * `npm run chat` (local/chat-cli.ts) as a person runs it, against the real local stack with
 * the Anthropic fake: it finds the stack, streams answers, and runs its slash commands.
 */

const REPO = resolve(import.meta.dirname, "../..");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

let anthropic: FakeAnthropic;
let stack: LocalStack;
let dir: string;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-cli", stream: { tokensPerSecond: 200 } });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-cli",
      ANTHROPIC_BASE_URL: anthropic.url,
      REPLY_MODEL_FOOTER: "true",
      PORT: "0",
    }),
    { queue: `e2e-chat-cli-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
  dir = await mkdtemp(join(tmpdir(), "chat-cli-"));
});

afterAll(async () => {
  await stack?.stop();
  await anthropic?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The CLI as a child process, from `cwd` (no developer `.env`), and what it printed so far. */
function startCli(args: string[], env: Record<string, string>, cwd = dir) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ["--import", TSX, resolve(REPO, "local/chat-cli.ts"), ...args],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? cwd,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...env,
      },
    },
  );
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return {
    output: () => out,
    type: (line: string) => child.stdin.write(`${line}\n`),
    /** Waits until the output contains `text` (30 s), then returns the output. */
    waitFor: (text: string) =>
      waitFor(() => (out.includes(text) ? out : undefined), 30_000).catch(() => {
        throw new Error(`no "${text}" in the CLI's output:\n${out}`);
      }),
    exited,
    kill: () => child.kill("SIGKILL"),
  };
}

describe("npm run chat", () => {
  it("streams an answer, prints memory, sets the model and forgets, with --user and --channel", async () => {
    const cli = startCli(
      ["--user", "alice", "--channel", "general", "--url", stack.console.url],
      {},
    );
    try {
      await cli.waitFor("Talking to the agent as alice in general");
      cli.type("what is the tide table for today?");
      const answered = await cli.waitFor("\n  (claude");
      expect(answered).toMatch(
        /fake-anthropic\(claude[^)]*\): what is the tide table for today\?\n {2}\(claude[^)]*\)/,
      );
      cli.type("/memory");
      await cli.waitFor("live messages: 2");
      expect(cli.output()).toContain("  user: what is the tide table for today?");
      cli.type("/model haiku");
      await cli.waitFor("model set to haiku");
      cli.type("/model");
      await cli.waitFor("model: haiku");
      cli.type("/model nonsense-model");
      await cli.waitFor("400: model is not a known model or alias");
      cli.type("/forget");
      await cli.waitFor("forgotten: 2 messages, 0 summaries");
      cli.type("/quit");
      expect(await cli.exited).toBe(0);
    } finally {
      cli.kill();
    }
    // The conversation was the web platform's alice in general, and is gone.
    const memory = await fetch(`${stack.url}/console/api/memory?user=alice&channel=general`, {
      headers: { "x-console-token": stack.console.token },
    });
    expect(((await memory.json()) as { messages: unknown[] }).messages).toEqual([]);
  });

  it("finds the running stack through DATA_DIR/console.json, as npm start writes it", async () => {
    const dataDir = join(dir, "data");
    await announceConsole(stack.console, dataDir, createLogger("test", "SILENT"));
    const cli = startCli([], { DATA_DIR: dataDir });
    try {
      await cli.waitFor("Talking to the agent as me in console");
      cli.type("hello there");
      await cli.waitFor("hello there\n  (claude");
      cli.type("/quit");
      expect(await cli.exited).toBe(0);
    } finally {
      cli.kill();
    }
  });

  it("says to start the stack when it is not running", async () => {
    const empty = await mkdtemp(join(dir, "empty-"));
    const none = startCli([], { DATA_DIR: empty });
    expect(await none.exited).toBe(1);
    expect(none.output()).toContain("the local stack is not running");
    expect(none.output()).toContain("start it with npm start");

    // A file left by a stack that has stopped: nothing listens on its port.
    const port = await freePort();
    await writeFile(
      join(empty, "console.json"),
      JSON.stringify({
        url: `http://127.0.0.1:${port}/?token=${"a".repeat(64)}`,
        baseUrl: `http://127.0.0.1:${port}`,
        token: "a".repeat(64),
      }),
    );
    const stale = startCli([], { DATA_DIR: empty });
    expect(await stale.exited).toBe(1);
    expect(stale.output()).toContain("start it with npm start");
  });
});
