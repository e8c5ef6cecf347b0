import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOOPBACK_HOST } from "../../local/services";
import {
  type LocalProcess,
  type LocalProcessFakes,
  runLocalProcessToExit,
  startLocalProcess,
  startLocalProcessFakes,
} from "../support/local-process";
import { answers, appMentionEnvelope, postSlackEvent } from "../support/slack";
import { waitFor } from "../support/wait";

/**
 * What a new user sees of `npm start` (issue 14, "First-run polish"): a start without the AWS
 * SDK's Node version notice, a taken `PORT` named as the cause before anything else starts,
 * and Ctrl-C ending with a "local stack stopped" line that says what was drained. The stack
 * runs as a child process, as `npm start` runs it, against the wire-level Slack and Anthropic
 * fakes.
 */

const BOT = "UBOTFIRSTRUN";

let fakes: LocalProcessFakes;
let stack: LocalProcess | undefined;

beforeAll(async () => {
  fakes = await startLocalProcessFakes("first-run", BOT);
});

afterAll(async () => {
  await stack?.kill();
  await fakes?.close();
});

/** The JSON log line whose message is `message`, parsed, or undefined. */
function logLine(output: string, message: string): Record<string, unknown> | undefined {
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.message === message) return parsed;
    } catch {
      // a line split across chunks or not JSON: not the one looked for
    }
  }
  return undefined;
}

describe("npm start, first run", () => {
  it("starts without the AWS SDK's NodeVersionSupportWarning", async () => {
    stack = await startLocalProcess(fakes.env(), { cwd: fakes.dir });
    // `/health` answers before the first health check; "ready" is logged after it.
    const ready = stack;
    await waitFor(() => (ready.output().includes("local stack ready") ? true : undefined), 30_000);
    expect(stack.output()).not.toContain("NodeVersionSupportWarning");
  }, 150_000);

  it("on Ctrl-C finishes the job in flight, then logs what it drained and exits 0", async () => {
    if (!stack) throw new Error("the previous test did not start the stack");
    let modelCalled = false;
    fakes.anthropic.setReply(async () => {
      modelCalled = true;
      await new Promise((r) => setTimeout(r, 1_500));
      return "answered while stopping";
    });
    const ts = `${Math.floor(Date.now() / 1000)}.000001`;
    const status = await postSlackEvent(
      stack.url,
      appMentionEnvelope({
        eventId: `Ev-first-run-${randomUUID()}`,
        text: "a question in flight at Ctrl-C",
        botUserId: BOT,
        user: "U0FIRSTRUN",
        channel: "C0FIRSTRUN",
        ts,
      }),
    );
    expect(status).toBe(200);
    await waitFor(() => (modelCalled ? true : undefined), 30_000);

    const code = await stack.interrupt("SIGINT");
    const output = stack.output();
    expect(code, output).toBe(0);
    expect(logLine(output, "stopping local stack"), output).toMatchObject({ signal: "SIGINT" });
    expect(logLine(output, "local stack stopped"), output).toMatchObject({
      signal: "SIGINT",
      chatJobsFinished: 1,
      chatJobsLeftQueued: 0,
      archiveJobsFinished: 0,
      emulatorsStopped: ["SQS emulator (fauxqs)", "DynamoDB Local"],
    });
    // The job in flight was answered before the stack stopped.
    expect(answers(fakes.slack).filter((a) => a.thread_ts === ts)).toHaveLength(1);
    expect(output).not.toContain("queue poll failed");
  }, 60_000);

  it("with PORT taken, says so before starting anything and exits non-zero", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, LOOPBACK_HOST, resolve));
    const address = taken.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const { code, output } = await runLocalProcessToExit(fakes.env(), {
        cwd: fakes.dir,
        port,
      });
      expect(code, output).not.toBe(0);
      expect(output).toContain(`port ${port} is in use; set PORT`);
      expect(output).not.toContain("queue poll failed");
      expect(output).not.toContain("DynamoDB Local started");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 60_000);
});
