/**
 * Orchestration edge cases with an in-process admin (the wire-level flows are in
 * test/integration/gateway-bootstrap.test.ts).
 */
import { describe, expect, it } from "vitest";
import { type GatewayAdmin, GatewayAdminError, type ModelSpec } from "../../core/ops/gateway/admin";
import { bootstrapGateway } from "../../core/ops/gateway/bootstrap";

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
  now: () => 0,
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

describe("bootstrapGateway when interrupted", () => {
  const secrets = { description: "memory", set: async () => {} };

  it("stops at the next step boundary and undoes the key", async () => {
    const controller = new AbortController();
    const { admin, calls } = recordingAdmin(() => {});
    const createKey = admin.createKey;
    // The interrupt arrives while the key request is answered: the key exists, no model yet.
    admin.createKey = async (request, signal) => {
      const key = await createKey(request, signal);
      controller.abort(new Error("SIGINT"));
      return key;
    };
    const pending: (readonly string[])[] = [];
    const outcome = await bootstrapGateway(
      { models: MODELS, keyAlias: "k", signal: controller.signal },
      { admin, secrets, ...deps, onPending: (items) => pending.push(items) },
    );

    if (outcome.ok) throw new Error("expected an interrupt");
    expect(outcome.error).toMatchObject({
      step: "models",
      interrupted: true,
      message: "interrupted before registering model gpt-a",
      cleanup: { undone: ["key k (…1234)"], leftBehind: [] },
    });
    expect(calls).toEqual(["createKey k", "deleteKey k"]);
    expect(pending).toEqual([["key k"], ["key k (…1234)"], ["key k (…1234)"], [], []]);
  });

  it("probes nothing when the signal fired before the run", async () => {
    const { admin, calls } = recordingAdmin(() => {});
    let probes = 0;
    admin.health = async () => {
      probes += 1;
      return { healthy: true };
    };
    const outcome = await bootstrapGateway(
      { models: MODELS, keyAlias: "k", signal: AbortSignal.abort() },
      { admin, secrets, ...deps },
    );
    expect(outcome.ok || [outcome.error.step, outcome.error.interrupted]).toEqual(["health", true]);
    expect([probes, calls]).toEqual([0, []]);
  });
});

describe("bootstrapGateway after a create whose answer was lost (no pinned id)", () => {
  const lost = (operation: "createKey" | "registerModel") =>
    new GatewayAdminError({
      dialect: "model-manager",
      operation,
      message: "POST /admin/x failed: fetch failed",
    });

  it("finds a model registered anyway by its name and deletes it", async () => {
    const { admin, calls } = recordingAdmin((spec) => {
      if (spec.name === "gpt-b") throw lost("registerModel");
    });
    admin.listModels = async () =>
      calls.length === 0
        ? [{ id: "old", name: "other" }]
        : [
            { id: "old", name: "other" },
            { id: "id-gpt-a", name: "gpt-a" },
            { id: "ghost", name: "gpt-b" },
          ];
    const outcome = await bootstrapGateway(
      { models: MODELS, keyAlias: "k" },
      { admin, secrets: { description: "memory", set: async () => {} }, ...deps },
    );

    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.interrupted).toBe(false);
    expect(outcome.error.cleanup.undone).toEqual([
      "model gpt-b (id ghost)",
      "model gpt-a (id id-gpt-a)",
      "key k (…1234)",
    ]);
  });

  it("reports a key it cannot look up as possibly left behind", async () => {
    const { admin } = recordingAdmin(() => {});
    admin.createKey = async () => {
      throw lost("createKey");
    };
    const outcome = await bootstrapGateway(
      { models: MODELS, keyAlias: "k" },
      { admin, secrets: { description: "memory", set: async () => {} }, ...deps },
    );

    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.cleanup).toEqual({
      undone: [],
      leftBehind: [{ item: "key k (if created)", reason: "POST /admin/x failed: fetch failed" }],
    });
  });
});
