/**
 * Orchestration edge cases with an in-process admin (the wire-level flows are in
 * test/integration/gateway-bootstrap.test.ts).
 */
import { describe, expect, it } from "vitest";
import type { GatewayAdmin, ModelSpec } from "../../core/gateway/admin";
import { bootstrapGateway } from "../../core/gateway/bootstrap";

const MODELS: ModelSpec[] = [
  { name: "gpt-a", upstreamModel: "gpt-a" },
  { name: "gpt-b", upstreamModel: "gpt-b" },
];

/** An admin that records calls; `registerModel` runs `onRegister` for each spec. */
function recordingAdmin(onRegister: (spec: ModelSpec, n: number) => void) {
  const calls: string[] = [];
  let registered = 0;
  const admin: GatewayAdmin = {
    dialect: "litellm",
    url: "http://gw",
    health: async () => ({ healthy: true }),
    listModels: async () => [],
    createKey: async ({ alias }) => {
      calls.push(`createKey ${alias}`);
      return { id: alias, alias, key: "sk-secret-value-1234" };
    },
    deleteKey: async (key) => {
      calls.push(`deleteKey ${key.alias}`);
      return true;
    },
    registerModel: async (spec) => {
      registered += 1;
      onRegister(spec, registered);
      calls.push(`registerModel ${spec.name}`);
      return { id: `id-${spec.name}`, name: spec.name };
    },
    deleteModel: async (model) => {
      calls.push(`deleteModel ${model.name}`);
      return true;
    },
  };
  return { admin, calls };
}

const deps = {
  clock: { now: () => 0 },
  sleep: async () => {},
};

describe("bootstrapGateway", () => {
  it("undoes newest first even when a step throws something unexpected", async () => {
    const { admin, calls } = recordingAdmin((_spec, n) => {
      if (n === 2) throw new TypeError("boom");
    });
    const secrets = { description: "memory", set: async () => {} };
    const outcome = await bootstrapGateway(
      { models: MODELS, keyAlias: "k" },
      { admin, secrets, ...deps },
    );

    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.cause).toBeInstanceOf(TypeError);
    expect(outcome.error.message).toBe("registering model gpt-b failed: boom");
    expect(calls).toEqual([
      "createKey k",
      "registerModel gpt-a",
      "deleteModel gpt-a",
      "deleteKey k",
    ]);
  });

  it("passes the key to the secret store and nowhere else", async () => {
    const { admin } = recordingAdmin(() => {});
    const stored: [string, string][] = [];
    const progress: string[] = [];
    const outcome = await bootstrapGateway(
      { models: MODELS, keyAlias: "k", secretName: "OtherSecret" },
      {
        admin,
        secrets: {
          description: "memory",
          set: async (name, value) => void stored.push([name, value]),
        },
        ...deps,
        progress: (line) => progress.push(line),
      },
    );

    expect(stored).toEqual([["OtherSecret", "sk-secret-value-1234"]]);
    expect(JSON.stringify(outcome)).not.toContain("sk-secret-value-1234");
    expect(progress.join("\n")).not.toContain("sk-secret-value-1234");
    expect(progress.join("\n")).toContain("…1234");
  });
});
