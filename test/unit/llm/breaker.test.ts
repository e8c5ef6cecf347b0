import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  admitCallWithHealth,
  breakerAfterHealthCheck,
  breakerEffect,
  DEFAULT_BREAKER_POLICY,
  DEFAULT_HEALTH_STALE_MS,
  recordOutcome,
} from "../../../core/llm/breaker-policy";
import {
  type BreakerDocumentClient,
  DynamoBreakerStore,
  InMemoryBreakerStore,
  parseBreakerItem,
} from "../../../core/llm/breaker-store";
import { admitCall, type BreakerState, CLOSED } from "../../../core/resilience/breaker";

const policy = DEFAULT_BREAKER_POLICY;
const T0 = 1_700_000_000_000;

function fail(state: BreakerState, now: number, times = 1): BreakerState {
  let s = state;
  for (let i = 0; i < times; i++) s = recordOutcome(s, "server", now, policy);
  return s;
}

describe("breaker transitions", () => {
  it("stays closed below the threshold and opens on the 3rd consecutive failure", () => {
    const two = fail(CLOSED, T0, 2);
    expect(two).toEqual({ state: "closed", consecutiveFailures: 2 });
    expect(admitCall(two, T0, policy).allowed).toBe(true);
    const three = fail(two, T0 + 5);
    expect(three).toEqual({ state: "open", consecutiveFailures: 3, openedAt: T0 + 5 });
  });

  it("a success resets the count", () => {
    const two = fail(CLOSED, T0, 2);
    const reset = recordOutcome(two, undefined, T0, policy);
    expect(reset).toEqual(CLOSED);
    expect(fail(reset, T0, 2).state).toBe("closed");
  });

  it("an open breaker refuses calls until 60 s have passed", () => {
    const open = fail(CLOSED, T0, 3);
    expect(admitCall(open, T0 + 1, policy)).toEqual({ allowed: false, next: open });
    expect(admitCall(open, T0 + 59_999, policy).allowed).toBe(false);
  });

  it("goes half-open after 60 s and grants exactly one trial", () => {
    const open = fail(CLOSED, T0, 3);
    const trial = admitCall(open, T0 + 60_000, policy);
    expect(trial.allowed).toBe(true);
    expect(trial.next).toEqual({
      state: "half-open",
      consecutiveFailures: 3,
      openedAt: T0,
      trialStartedAt: T0 + 60_000,
    });
    // A second caller while the trial is in flight is refused.
    expect(admitCall(trial.next, T0 + 60_001, policy).allowed).toBe(false);
  });

  it("a successful trial closes the breaker", () => {
    const half = admitCall(fail(CLOSED, T0, 3), T0 + 60_000, policy).next;
    expect(recordOutcome(half, undefined, T0 + 60_100, policy)).toEqual(CLOSED);
  });

  it("a failed trial reopens it for another 60 s", () => {
    const half = admitCall(fail(CLOSED, T0, 3), T0 + 60_000, policy).next;
    const reopened = recordOutcome(half, "timeout", T0 + 61_000, policy);
    expect(reopened).toEqual({ state: "open", consecutiveFailures: 4, openedAt: T0 + 61_000 });
    expect(admitCall(reopened, T0 + 61_000 + 59_000, policy).allowed).toBe(false);
    expect(admitCall(reopened, T0 + 61_000 + 60_000, policy).allowed).toBe(true);
  });

  it("grants a new trial when the previous one never reported back", () => {
    const half = admitCall(fail(CLOSED, T0, 3), T0 + 60_000, policy).next;
    expect(admitCall(half, T0 + 120_000, policy).allowed).toBe(true);
  });

  it("counts transient, server and auth failures only", () => {
    for (const kind of ["rate_limit", "server", "timeout", "network", "auth"] as const) {
      expect(breakerEffect(kind)).toBe("failure");
    }
    expect(breakerEffect("invalid_request")).toBe("healthy");
    expect(breakerEffect("model_not_found")).toBe("healthy");
    expect(breakerEffect("unknown")).toBe("neutral");
    const two = fail(CLOSED, T0, 2);
    expect(recordOutcome(two, "invalid_request", T0, policy)).toEqual(CLOSED);
    expect(recordOutcome(two, "model_not_found", T0, policy)).toEqual(CLOSED);
    expect(recordOutcome(two, "unknown", T0, policy)).toEqual(two);
    expect(recordOutcome(two, "auth", T0, policy).state).toBe("open");
  });

  it("an inconclusive trial hands the trial to the next caller", () => {
    const half = admitCall(fail(CLOSED, T0, 3), T0 + 60_000, policy).next;
    const after = recordOutcome(half, "unknown", T0 + 60_100, policy);
    expect(after).toEqual({ state: "open", consecutiveFailures: 3, openedAt: T0 });
    expect(admitCall(after, T0 + 60_200, policy).allowed).toBe(true);
  });
});

describe("breaker and the scheduled health check", () => {
  it("a passing check closes the breaker from any state", () => {
    const open = fail(CLOSED, T0, 3);
    const half = admitCall(open, T0 + 60_000, policy).next;
    for (const state of [open, half, fail(CLOSED, T0, 2)]) {
      expect(breakerAfterHealthCheck(state, { ok: true }, T0 + 70_000)).toEqual(CLOSED);
    }
  });

  it("a check failing with a counted kind opens the breaker at once, restarting the cool-down", () => {
    expect(breakerAfterHealthCheck(CLOSED, { ok: false, kind: "network" }, T0)).toEqual({
      state: "open",
      consecutiveFailures: 1,
      openedAt: T0,
    });
    const open = fail(CLOSED, T0, 3);
    const again = breakerAfterHealthCheck(open, { ok: false, kind: "auth" }, T0 + 300_000);
    expect(again).toEqual({ state: "open", consecutiveFailures: 4, openedAt: T0 + 300_000 });
    // A failed check without a kind (the check's own timeout) counts like a timeout.
    expect(breakerAfterHealthCheck(CLOSED, { ok: false }, T0).state).toBe("open");
  });

  it("a check the provider answered (404, 400) or that failed inconclusively leaves it alone", () => {
    const two = fail(CLOSED, T0, 2);
    for (const kind of ["model_not_found", "invalid_request", "unknown"] as const) {
      expect(breakerAfterHealthCheck(two, { ok: false, kind }, T0)).toBe(two);
    }
  });

  it("refuses a provider whose breaker is open and whose fresh check failed, past the cool-down", () => {
    const open = fail(CLOSED, T0, 3);
    const failed = { ok: false, checkedAt: T0 };
    const later = T0 + 120_000;
    expect(admitCall(open, later, policy).allowed).toBe(true);
    expect(admitCallWithHealth(open, failed, later, policy)).toEqual({
      allowed: false,
      next: open,
      healthRefused: true,
    });
    const half = admitCall(open, T0 + 60_000, policy).next;
    expect(admitCallWithHealth(half, failed, T0 + 200_000, policy).healthRefused).toBe(true);
  });

  it("falls back to the breaker alone when it is closed, the check passed, or the check is stale", () => {
    const open = fail(CLOSED, T0, 3);
    const later = T0 + 120_000;
    const closed = admitCallWithHealth(CLOSED, { ok: false, checkedAt: T0 }, later, policy);
    expect(closed).toMatchObject({ allowed: true, healthRefused: false });
    const passed = admitCallWithHealth(open, { ok: true, checkedAt: T0 }, later, policy);
    expect(passed).toMatchObject({ allowed: true, healthRefused: false });
    expect(passed.next.state).toBe("half-open");
    const staleAt = T0 + DEFAULT_HEALTH_STALE_MS;
    const stale = admitCallWithHealth(open, { ok: false, checkedAt: T0 }, staleAt, policy);
    expect(stale).toMatchObject({ allowed: true, healthRefused: false });
    expect(admitCallWithHealth(open, undefined, later, policy).allowed).toBe(true);
    // Within the cool-down both refuse; the failed check is named as the reason.
    const early = admitCallWithHealth(open, { ok: false, checkedAt: T0 }, T0 + 1, policy);
    expect(early).toMatchObject({ allowed: false, healthRefused: true });
  });

  it("lets the breaker alone decide when the check failed for a reason it does not count", () => {
    const open = fail(CLOSED, T0, 3);
    const later = T0 + 120_000;
    for (const kind of ["model_not_found", "invalid_request", "unknown"] as const) {
      const check = { ok: false, checkedAt: later - 1, kind };
      // breakerAfterHealthCheck leaves the breaker alone for these kinds, so refusing here
      // would keep the provider out for as long as the probe keeps failing that way.
      expect(breakerAfterHealthCheck(open, check, later)).toBe(open);
      expect(admitCallWithHealth(open, check, later, policy)).toMatchObject({
        allowed: true,
        healthRefused: false,
      });
    }
    const counted = { ok: false, checkedAt: later - 1, kind: "auth" as const };
    expect(admitCallWithHealth(open, counted, later, policy).healthRefused).toBe(true);
  });
});

describe("InMemoryBreakerStore", () => {
  it("returns closed for unknown providers and copies on read/write", async () => {
    const store = new InMemoryBreakerStore();
    expect(await store.get("anthropic")).toEqual(CLOSED);
    const open: BreakerState = { state: "open", consecutiveFailures: 3, openedAt: T0 };
    await store.put("anthropic", open);
    open.consecutiveFailures = 99;
    expect(await store.get("anthropic")).toEqual({ ...open, consecutiveFailures: 3 });
    expect(await store.get("openai-compatible")).toEqual(CLOSED);
  });
});

/** A fake of the document client's `send`, backed by a Map keyed by pk|sk. */
function fakeDocumentClient() {
  const items = new Map<string, Record<string, unknown>>();
  const calls: string[] = [];
  let failing = false;
  const client: BreakerDocumentClient = {
    async send(command) {
      calls.push(command.constructor.name);
      if (failing) throw new Error("dynamodb unreachable");
      if (command instanceof GetCommand) {
        const key = command.input.Key as { pk: string; sk: string };
        return { Item: items.get(`${key.pk}|${key.sk}`) };
      }
      if (command instanceof PutCommand) {
        const item = command.input.Item as { pk: string; sk: string };
        items.set(`${item.pk}|${item.sk}`, { ...item });
        return {};
      }
      throw new Error("unexpected command");
    },
  };
  return { client, items, calls, setFailing: (v: boolean) => (failing = v) };
}

describe("DynamoBreakerStore", () => {
  it("writes HEALTH#<provider>/BREAKER items and reads them back", async () => {
    const fake = fakeDocumentClient();
    const now = T0;
    const writer = new DynamoBreakerStore({
      client: fake.client,
      tableName: "t",
      now: () => now,
    });
    const open: BreakerState = { state: "open", consecutiveFailures: 3, openedAt: T0 };
    await writer.put("anthropic", open);
    expect(fake.items.get("HEALTH#anthropic|BREAKER")).toMatchObject({
      pk: "HEALTH#anthropic",
      sk: "BREAKER",
      state: "open",
      consecutiveFailures: 3,
      openedAt: T0,
      updatedAt: T0,
    });
    // Another container sees the shared state.
    const reader = new DynamoBreakerStore({
      client: fake.client,
      tableName: "t",
      now: () => now,
    });
    expect(await reader.get("anthropic")).toEqual(open);
    expect(await reader.get("openai-compatible")).toEqual(CLOSED);
  });

  it("accepts a real DynamoDBDocumentClient", () => {
    // Compile-time check that the narrow client interface matches the SDK's client.
    const client: BreakerDocumentClient = DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: "us-east-1" }),
    );
    expect(new DynamoBreakerStore({ client, tableName: "t" })).toBeInstanceOf(DynamoBreakerStore);
  });

  it("caches reads for cacheMs", async () => {
    const fake = fakeDocumentClient();
    let now = T0;
    const store = new DynamoBreakerStore({
      client: fake.client,
      tableName: "t",
      cacheMs: 5_000,
      now: () => now,
    });
    await store.get("anthropic");
    now += 4_999;
    await store.get("anthropic");
    expect(fake.calls.filter((c) => c === "GetCommand")).toHaveLength(1);
    now += 1;
    await store.get("anthropic");
    expect(fake.calls.filter((c) => c === "GetCommand")).toHaveLength(2);
  });

  it("rejects on DynamoDB errors but keeps what it wrote in its cache", async () => {
    const fake = fakeDocumentClient();
    const store = new DynamoBreakerStore({ client: fake.client, tableName: "t", now: () => T0 });
    fake.setFailing(true);
    const open: BreakerState = { state: "open", consecutiveFailures: 3, openedAt: T0 };
    await expect(store.put("anthropic", open)).rejects.toThrow("dynamodb unreachable");
    expect(await store.get("anthropic")).toEqual(open);
    await expect(store.get("openai-compatible")).rejects.toThrow("dynamodb unreachable");
  });

  it("reads malformed items as closed", () => {
    expect(parseBreakerItem(undefined)).toEqual(CLOSED);
    expect(parseBreakerItem({ state: "weird" })).toEqual(CLOSED);
    expect(parseBreakerItem({ state: "open", consecutiveFailures: 3 })).toEqual(CLOSED);
    expect(parseBreakerItem({ state: "closed", consecutiveFailures: -1 })).toEqual(CLOSED);
  });
});
