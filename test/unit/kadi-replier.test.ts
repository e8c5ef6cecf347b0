import { describe, expect, it } from "vitest";
import { KadiError, type KadiErrorKind } from "../../core/kadi/errors";
import { KadiReplier, KadiReplyError, type KadiToolInvoker } from "../../core/kadi/replier";
import { discordKadiBinding } from "../../core/platforms/discord/kadi";
import { slackKadiBinding } from "../../core/platforms/slack/kadi";

interface Call {
  targetAgent: string | undefined;
  toolName: string;
  input: Record<string, string>;
  timeoutMs: number;
}

/** An in-process invoker: records calls, fails them as scripted, answers `{ts}` otherwise. */
function fakeInvoker() {
  const calls: Call[] = [];
  const failures: (KadiErrorKind | Error)[] = [];
  const invoker: KadiToolInvoker = {
    async invokeTool(targetAgent, toolName, input, timeoutMs) {
      calls.push({ targetAgent, toolName, input: input as Record<string, string>, timeoutMs });
      const failure = failures.shift();
      if (failure instanceof Error) throw failure;
      if (failure) throw new KadiError(failure, `${failure} from fake`);
      return { ts: `ts-${calls.length}` };
    },
  };
  return {
    invoker,
    calls,
    failNext: (...kinds: (KadiErrorKind | Error)[]) => failures.push(...kinds),
  };
}

function setup() {
  const fake = fakeInvoker();
  const sleeps: number[] = [];
  let now = 1_700_000_000_000;
  const replier = new KadiReplier({
    invoker: fake.invoker,
    bindings: { slack: slackKadiBinding, discord: discordKadiBinding },
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    now: () => now,
  });
  return { ...fake, replier, sleeps, advance: (ms: number) => (now += ms) };
}

const slackTarget = {
  platform: "slack",
  via: "kadi",
  address: { channel: "C1", threadTs: "1700000000.000100" },
} as const;
const discordTarget = {
  platform: "discord",
  via: "kadi",
  address: { channel: "D1", messageId: "1170000000000000000" },
} as const;

/** `count` paragraphs of `size` characters each, separated by blank lines. */
function paragraphs(count: number, size: number): string {
  return Array.from({ length: count }, (_, i) => String(i).repeat(size).slice(0, size)).join(
    "\n\n",
  );
}

describe("KadiReplier chunking", () => {
  it("answers Slack in the thread with slack_send_reply, one call per 4000 characters", async () => {
    const { replier, calls, sleeps } = setup();
    const text = paragraphs(3, 3000);
    const result = await replier.post(slackTarget, text);
    expect(calls.map((c) => c.toolName)).toEqual([
      "slack_send_reply",
      "slack_send_reply",
      "slack_send_reply",
    ]);
    for (const call of calls) {
      expect(call.input).toMatchObject({ channel: "C1", thread_ts: "1700000000.000100" });
      expect(call.input.text?.length).toBeLessThanOrEqual(4000);
      expect(call.targetAgent).toBeUndefined();
      expect(call.timeoutMs).toBe(8_000);
    }
    expect(calls.map((c) => c.input.text).join("\n\n")).toBe(text);
    expect(sleeps).toEqual([500, 500]);
    expect(result).toEqual({ messageId: "ts-1" });
  });

  it("replies to the Discord message first, then sends further chunks of ≤2000 characters", async () => {
    const { replier, calls } = setup();
    await replier.post(discordTarget, paragraphs(3, 1500));
    expect(calls.map((c) => [c.toolName, c.input])).toEqual([
      [
        "discord_send_reply",
        { channel: "D1", message_id: "1170000000000000000", text: "0".repeat(1500) },
      ],
      ["discord_send_message", { channel: "D1", text: "1".repeat(1500) }],
      ["discord_send_message", { channel: "D1", text: "2".repeat(1500) }],
    ]);
  });

  it("posts a short answer in one call without pausing", async () => {
    const { replier, calls, sleeps } = setup();
    await replier.post(discordTarget, "short");
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe("KadiReplier retries", () => {
  it("retries timeouts and network errors with 1, 2, 4 s backoff", async () => {
    const { replier, calls, sleeps, failNext } = setup();
    failNext("timeout", "network", "timeout");
    await expect(replier.post(slackTarget, "hello")).resolves.toEqual({ messageId: "ts-4" });
    expect(calls).toHaveLength(4);
    expect(sleeps).toEqual([1_000, 2_000, 4_000]);
  });

  it("gives up after 3 retries with the last error as cause", async () => {
    const { replier, calls, failNext } = setup();
    failNext("timeout", "timeout", "timeout", "network");
    const error = await replier.post(slackTarget, "hello").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KadiReplyError);
    expect(error).toMatchObject({ kind: "call_failed", toolName: "slack_send_reply" });
    expect(((error as Error).cause as KadiError).kind).toBe("network");
    expect(calls).toHaveLength(4);
  });

  it("does not retry a tool error, a closed client or any other error", async () => {
    for (const failure of ["tool_error", "closed", "protocol", new Error("bug")] as const) {
      const { replier, calls, sleeps, failNext } = setup();
      failNext(failure);
      await expect(replier.post(slackTarget, "hello")).rejects.toBeInstanceOf(KadiReplyError);
      expect(calls).toHaveLength(1);
      expect(sleeps).toEqual([]);
    }
  });
});

describe("KadiReplier circuit breaker", () => {
  it("opens after 5 consecutive failures and refuses calls untried", async () => {
    const { replier, calls, failNext } = setup();
    failNext("timeout", "timeout", "timeout", "timeout");
    await expect(replier.post(slackTarget, "one")).rejects.toMatchObject({ kind: "call_failed" });
    expect(replier.breakerState).toMatchObject({ state: "closed", consecutiveFailures: 4 });
    // The fifth consecutive failure opens it, so the retry is refused before reaching the broker.
    failNext("network");
    await expect(replier.post(slackTarget, "two")).rejects.toMatchObject({ kind: "circuit_open" });
    expect(calls).toHaveLength(5);
    expect(replier.breakerState.state).toBe("open");
    await expect(replier.post(discordTarget, "three")).rejects.toMatchObject({
      kind: "circuit_open",
    });
    expect(calls).toHaveLength(5);
  });

  /** Five timeouts over two posts; the breaker opened 1 s (one backoff sleep) ago. */
  async function opened(ctx: ReturnType<typeof setup>) {
    ctx.failNext("timeout", "timeout", "timeout", "timeout", "timeout");
    await expect(ctx.replier.post(slackTarget, "x")).rejects.toMatchObject({ kind: "call_failed" });
    await expect(ctx.replier.post(slackTarget, "x")).rejects.toMatchObject({
      kind: "circuit_open",
    });
    expect(ctx.calls).toHaveLength(5);
  }

  it("lets one trial through 60 s after opening; success closes it", async () => {
    const ctx = setup();
    await opened(ctx);
    ctx.advance(58_999);
    await expect(ctx.replier.post(slackTarget, "x")).rejects.toMatchObject({
      kind: "circuit_open",
    });
    ctx.advance(1);
    await expect(ctx.replier.post(slackTarget, "x")).resolves.toBeDefined();
    expect(ctx.replier.breakerState).toEqual({ state: "closed", consecutiveFailures: 0 });
    expect(ctx.calls).toHaveLength(6);
  });

  it("a failed trial reopens it at once", async () => {
    const ctx = setup();
    await opened(ctx);
    ctx.advance(59_000);
    ctx.failNext("timeout");
    await expect(ctx.replier.post(slackTarget, "x")).rejects.toMatchObject({
      kind: "circuit_open",
    });
    expect(ctx.calls).toHaveLength(6);
    expect(ctx.replier.breakerState.state).toBe("open");
  });

  it("a tool error resets the count: the broker answered", async () => {
    const { replier, failNext } = setup();
    failNext("timeout", "timeout", "timeout", "tool_error");
    await expect(replier.post(slackTarget, "x")).rejects.toMatchObject({ kind: "call_failed" });
    expect(replier.breakerState).toEqual({ state: "closed", consecutiveFailures: 0 });
  });
});
