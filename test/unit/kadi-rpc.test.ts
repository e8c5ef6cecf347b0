import { describe, expect, it } from "vitest";
import { KadiError } from "../../core/kadi/errors";
import { parseJsonRpcMessage } from "../../core/kadi/protocol";
import { type RpcAnswer, RpcCorrelator } from "../../core/kadi/rpc";
import { createLogger } from "../../core/logger";
import { ManualTimers } from "../support/manual-timers";
import { rejection } from "../support/rejection";

const logger = createLogger("kadi-rpc-test", "SILENT");

/** A correlator whose frames land in `sent`; `connected` decides whether sending works. */
function setup() {
  const timers = new ManualTimers();
  const sent: { id: number; method: string; params: unknown }[] = [];
  const link = { connected: true };
  const rpc = new RpcCorrelator({
    send: (text) => {
      if (!link.connected) return false;
      sent.push(JSON.parse(text));
      return true;
    },
    timers,
    logger,
  });
  /** Hands a raw frame to the correlator as the client does. */
  const answer = (frame: string) => rpc.settleAnswer(parseJsonRpcMessage(frame) as RpcAnswer);
  return { rpc, timers, sent, link, answer };
}

describe("RpcCorrelator", () => {
  it("sends numbered requests and matches answers echoed with string ids and no jsonrpc", async () => {
    const { rpc, sent, answer } = setup();
    const first = rpc.request("kadi.event.publish", { channel: "a" }, 1_000);
    const second = rpc.request("kadi.event.publish", { channel: "b" }, 1_000);
    expect(sent.map((f) => [f.id, f.method, f.params])).toEqual([
      [1, "kadi.event.publish", { channel: "a" }],
      [2, "kadi.event.publish", { channel: "b" }],
    ]);

    answer('{"id":"2","result":"second"}');
    answer('{"jsonrpc":"2.0","id":1,"result":{"n":1}}');
    await expect(second).resolves.toBe("second");
    await expect(first).resolves.toEqual({ n: 1 });
  });

  it("rejects with tool_error carrying code and data of an error answer", async () => {
    const { rpc, answer } = setup();
    const call = rpc.request("kadi.agent.register", {}, 1_000);
    answer('{"id":1,"error":{"code":-32602,"message":"bad tools","data":{"at":"tools"}}}');
    const error = await rejection(call);
    expect(error).toBeInstanceOf(KadiError);
    expect(error).toMatchObject({
      kind: "tool_error",
      code: -32602,
      message: "bad tools",
      data: { at: "tools" },
    });
  });

  it("rejects with protocol when the answer to a request is malformed", async () => {
    const { rpc, answer } = setup();
    const call = rpc.request("kadi.session.hello", {}, 1_000);
    answer('{"id":1,"error":{"message":"no code"}}');
    expect(await rejection(call)).toMatchObject({ kind: "protocol" });
  });

  it("times out at the deadline, and a late answer is dropped", async () => {
    const { rpc, timers, answer } = setup();
    const call = rpc.request("kadi.session.ping", {}, 500);
    timers.advance(499);
    answer('{"id":2,"result":"pong"}');
    timers.advance(1);
    expect(await rejection(call)).toMatchObject({
      kind: "timeout",
      message: "kadi.session.ping got no answer within 500 ms",
    });
    expect(() => answer('{"id":1,"result":"pong"}')).not.toThrow();
    expect(timers.pending).toBe(0);
  });

  it("fails at once with network when there is no connection", async () => {
    const { rpc, link, timers } = setup();
    link.connected = false;
    expect(await rejection(rpc.request("kadi.event.publish", {}, 1_000))).toMatchObject({
      kind: "network",
    });
    expect(timers.pending).toBe(0);
  });

  it("resolves the pending → kadi.ability.response two-step", async () => {
    const { rpc, answer, sent } = setup();
    const call = rpc.invokeAbility(
      { toolName: "echo", toolInput: { x: 1 }, timeout: 1_000 },
      1_000,
      () => new KadiError("timeout", "echo timed out"),
    );
    expect(sent[0]).toMatchObject({ method: "kadi.ability.request", params: { toolName: "echo" } });
    answer('{"id":1,"result":{"status":"pending","requestId":"r-9"}}');
    rpc.settleAbilityResponse({ requestId: "r-9", result: { echoed: { x: 1 } } });
    await expect(call).resolves.toEqual({ echoed: { x: 1 } });
  });

  it("takes a direct result, and rejects a bare error string of the response with tool_error", async () => {
    const { rpc, answer } = setup();
    const timeout = () => new KadiError("timeout", "timed out");
    const direct = rpc.invokeAbility({ toolName: "t", toolInput: null }, 1_000, timeout);
    answer('{"id":1,"result":{"ok":true}}');
    await expect(direct).resolves.toEqual({ ok: true });

    const failing = rpc.invokeAbility({ toolName: "t", toolInput: null }, 1_000, timeout);
    answer('{"id":2,"result":{"status":"pending","requestId":7}}');
    rpc.settleAbilityResponse({ requestId: "7", error: "no such channel" });
    expect(await rejection(failing)).toMatchObject({
      kind: "tool_error",
      message: "no such channel",
    });
  });

  it("rejects a tool call with the caller's timeout error once both steps took too long", async () => {
    const { rpc, answer, timers } = setup();
    const call = rpc.invokeAbility(
      { toolName: "slow", toolInput: null },
      300,
      () => new KadiError("timeout", "slow call timed out after 300 ms"),
    );
    answer('{"id":1,"result":{"status":"pending","requestId":"r-1"}}');
    timers.advance(300);
    expect(await rejection(call)).toMatchObject({
      kind: "timeout",
      message: "slow call timed out after 300 ms",
    });
    expect(() => rpc.settleAbilityResponse({ requestId: "r-1", result: 1 })).not.toThrow();
  });

  it("failAll rejects outstanding requests and waiting tool calls with the given error", async () => {
    const { rpc, answer, timers } = setup();
    const request = rpc.request("kadi.event.subscribe", {}, 1_000);
    const tool = rpc.invokeAbility({ toolName: "t", toolInput: null }, 1_000, () => {
      return new KadiError("timeout", "t timed out");
    });
    answer('{"id":2,"result":{"status":"pending","requestId":"r"}}');
    const closed = new KadiError("closed", "KADI client closed");

    rpc.failAll(closed);
    expect(await rejection(request)).toBe(closed);
    expect(await rejection(tool)).toBe(closed);
    expect(timers.pending).toBe(0);
  });
});
