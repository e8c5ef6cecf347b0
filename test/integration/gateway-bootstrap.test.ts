/**
 * The gateway bootstrap with the real admin clients over HTTP against the fakes of both
 * dialects. Time is virtual (a `now` that `sleep` advances), so waits cost nothing and probe
 * counts are exact; the secret store is in memory. Interrupts are the CLI's abort signal fired
 * by hand, as `scripts/gateway-bootstrap.ts` fires it on SIGINT/SIGTERM.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GatewayAdminError } from "../../core/ops/gateway/admin";
import { type BootstrapOptions, bootstrapGateway } from "../../core/ops/gateway/bootstrap";
import { Interrupt, runBootstrapCli } from "../../core/ops/gateway/cli";
import { createGatewayAdmin } from "../../core/ops/gateway/dialects";
import { modelSpecs } from "../../core/ops/gateway/models";
import {
  MODEL_MANAGER_SECRET_NAME,
  type SecretStore,
  SecretStoreError,
} from "../../core/ops/gateway/secret-store";
import type { Sleep } from "../../core/ops/gateway/wait";
import {
  type FakeGatewayAdmin,
  startFakeLiteLLM,
  startFakeModelManager,
} from "../fakes/gateway-admin";

const MASTER = "sk-master-integration";

/** Time (`now`, epoch ms) that only moves when `sleep` is called; `sleeps` records every
 * pause in ms. */
function virtualTime(start = Date.UTC(2026, 0, 2, 3, 4, 5)) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

/** In-memory secret store; `failWith` makes every `set` reject. */
function memorySecrets(failWith?: Error): SecretStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    description: "memory store",
    values,
    set: async (name, value) => {
      if (failWith) throw failWith;
      values.set(name, value);
    },
  };
}

const specs = (...names: string[]) => {
  const result = modelSpecs(names, { apiKeyEnv: "OPENAI_API_KEY" });
  if (!result.ok) throw new Error(result.problems.join("; "));
  return result.specs;
};

const HEALTH = { budgetMs: 1_000, initialDelayMs: 100, maxDelayMs: 400, probeTimeoutMs: 500 };

describe.each([
  ["litellm", startFakeLiteLLM],
  ["model-manager", startFakeModelManager],
] as const)("gateway bootstrap against a fake %s", (dialect, start) => {
  let fake: FakeGatewayAdmin;

  beforeAll(async () => {
    fake = await start({ masterKey: MASTER });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  function run(options: Partial<BootstrapOptions> = {}, secrets = memorySecrets()) {
    const time = virtualTime();
    const admin = createGatewayAdmin({ dialect, url: fake.url, adminKey: MASTER });
    const progress: string[] = [];
    const result = bootstrapGateway(
      {
        models: specs("gpt-5.4", "mini"),
        keyAlias: "chat-agent-test",
        health: HEALTH,
        ...options,
      },
      { admin, secrets, ...time, progress: (line) => progress.push(line) },
    );
    return { result, secrets, time, progress };
  }

  it("on a healthy gateway registers the models, generates a key and stores it", async () => {
    const { result, secrets, progress } = run();
    const outcome = await result;

    if (!outcome.ok) throw outcome.error;
    const stored = secrets.values.get(MODEL_MANAGER_SECRET_NAME) ?? "";
    expect(fake.keys()).toEqual([
      expect.objectContaining({
        key: stored,
        alias: "chat-agent-test",
        models: ["gpt-5.4", "gpt-5.4-mini"],
      }),
    ]);
    expect(fake.models().map((m) => m.name)).toEqual(["gpt-5.4", "gpt-5.4-mini"]);
    expect(outcome.summary).toMatchObject({
      gatewayUrl: fake.url,
      dialect,
      key: { alias: "chat-agent-test", lastFour: `…${stored.slice(-4)}` },
      secret: { name: "ModelManagerApiKey", store: "memory store" },
      registered: fake.models().map(({ id, name }) => ({ id, name })),
      alreadyPresent: [],
      health: { probes: 1, elapsedMs: 0 },
    });
    expect(JSON.stringify(outcome.summary)).not.toContain(stored);
    expect(progress.join("\n")).not.toContain(stored);

    // The stored key is a working gateway key for the registered models.
    const client = new OpenAI({ apiKey: stored, baseURL: `${fake.url}/v1`, maxRetries: 0 });
    const served = [];
    for await (const model of client.models.list()) served.push(model.id);
    expect(served).toEqual(["gpt-5.4", "gpt-5.4-mini"]);

    const admin = fake.requests.filter(
      (r) => r.path !== "/v1/models" && !r.path.startsWith("/health"),
    );
    expect(admin.every((r) => r.headers.authorization === `Bearer ${MASTER}`)).toBe(true);
  });

  it("refers to the upstream key by variable name only", async () => {
    const outcome = await run().result;
    expect(outcome.ok).toBe(true);
    const params = fake.models().map((m) => m.params);
    if (dialect === "litellm") {
      expect(params[0]).toEqual({ model: "openai/gpt-5.4", api_key: "os.environ/OPENAI_API_KEY" });
    } else {
      expect(params[0]).toEqual({ name: "gpt-5.4", model: "gpt-5.4", apiKeyEnv: "OPENAI_API_KEY" });
    }
  });

  it("waits with backoff until the gateway turns healthy", async () => {
    fake.healthyAfter(3);
    const { result, time } = run();
    const outcome = await result;

    expect(outcome.ok).toBe(true);
    expect(fake.healthProbes()).toBe(4);
    expect(time.sleeps).toEqual([100, 200, 400]);
  });

  it("gives up on a gateway that never becomes healthy, within the budget, leaving nothing", async () => {
    fake.setHealthy(false);
    const { result, secrets, time } = run();
    const outcome = await result;

    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.step).toBe("health");
    expect(outcome.error.message).toMatch(
      new RegExp(
        `${fake.url} did not become healthy within 1000 ms \\(5 probes; last: .*answered 503`,
      ),
    );
    // Probes at t = 0, 100, 300, 700 and 1000 ms: the last pause is cut to the deadline.
    expect(time.sleeps).toEqual([100, 200, 400, 300]);
    expect(fake.healthProbes()).toBe(5);
    expect(outcome.error.cleanup).toEqual({ undone: [], leftBehind: [] });
    expect([fake.keys(), fake.models(), [...secrets.values]]).toEqual([[], [], []]);
    expect(fake.requests.every((r) => r.path.startsWith("/health"))).toBe(true);
  });

  it("treats connection errors as unhealthy", async () => {
    fake.setDown(true);
    const outcome = await run().result;
    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.step).toBe("health");
    expect(outcome.error.message).toMatch(/5 probes; last: GET \/health\S* failed: fetch failed/);
  });

  it("undoes the key and the models already registered when a registration fails halfway", async () => {
    fake.failNext("registerModel", { afterSuccesses: 1, status: 500, message: "db write failed" });
    const { result, secrets } = run({ models: specs("gpt-5.4", "gpt-5.4-mini", "o4-mini") });
    const outcome = await result;

    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.step).toBe("models");
    expect(outcome.error.message).toMatch(
      /registering model gpt-5.4-mini failed: .*500: db write failed/,
    );
    expect(outcome.error.cause).toBeInstanceOf(GatewayAdminError);
    expect(fake.keys()).toEqual([]);
    expect(fake.models()).toEqual([]);
    expect(secrets.values.size).toBe(0);
    expect(outcome.error.cleanup.leftBehind).toEqual([]);
    expect(outcome.error.cleanup.undone).toEqual([
      expect.stringMatching(/^model gpt-5\.4 \(id .+\)$/),
      expect.stringMatching(/^key chat-agent-test/),
    ]);
    // o4-mini was never attempted.
    const registrations = fake.requests.filter((r) =>
      /^\/(model\/new|admin\/models\/openai)$/.test(r.path),
    );
    expect(registrations.map((r) => r.body.model_name ?? r.body.name)).toEqual([
      "gpt-5.4",
      "gpt-5.4-mini",
    ]);
  });

  it("undoes the key and models when storing the secret fails", async () => {
    const secrets = memorySecrets(
      new SecretStoreError("sst secret set ModelManagerApiKey exited with 1", 1),
    );
    const outcome = await run({}, secrets).result;

    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.step).toBe("secret");
    expect(outcome.error.message).toContain("storing ModelManagerApiKey in memory store failed");
    expect(outcome.error.cause).toBeInstanceOf(SecretStoreError);
    expect(fake.keys()).toEqual([]);
    expect(fake.models()).toEqual([]);
    expect(outcome.error.cleanup.undone).toHaveLength(3);
  });

  it("stops before creating anything when the admin key is rejected", async () => {
    const admin = createGatewayAdmin({ dialect, url: fake.url, adminKey: "sk-wrong" });
    const time = virtualTime();
    const secrets = memorySecrets();
    const outcome = await bootstrapGateway(
      { models: specs("gpt-5.4"), keyAlias: "k", health: HEALTH },
      { admin, secrets, ...time },
    );

    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.step).toBe("inspect");
    expect(outcome.error.cause).toMatchObject({ status: 401 });
    expect(outcome.error.message).not.toContain("sk-wrong");
    expect([fake.keys(), fake.models(), secrets.values.size]).toEqual([[], [], 0]);
  });

  it("leaves models the gateway already served alone, also when undoing", async () => {
    const existing = fake.addModel("gpt-5.4");
    const first = await run().result;
    expect(first.ok && first.summary.alreadyPresent).toEqual([
      { id: existing.id, name: "gpt-5.4" },
    ]);
    expect(fake.models().map((m) => m.name)).toEqual(["gpt-5.4", "gpt-5.4-mini"]);

    fake.reset();
    fake.addModel("gpt-5.4");
    const outcome = await run({}, memorySecrets(new SecretStoreError("no credentials"))).result;
    expect(outcome.ok).toBe(false);
    expect(fake.models().map((m) => m.name)).toEqual(["gpt-5.4"]);
    expect(fake.keys()).toEqual([]);
  });

  it("reports what it could not undo", async () => {
    fake.failNext("registerModel", { afterSuccesses: 1 });
    fake.failNext("deleteKey", { status: 503, message: "maintenance" });
    const outcome = await run().result;

    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.cleanup.undone).toEqual([expect.stringMatching(/^model gpt-5\.4 /)]);
    expect(outcome.error.cleanup.leftBehind).toEqual([
      {
        item: expect.stringMatching(/^key chat-agent-test/),
        reason: expect.stringContaining("maintenance"),
      },
    ]);
    expect(fake.keys()).toHaveLength(1);
  });
});

describe("LiteLLM answers lost after the change was applied", () => {
  let fake: FakeGatewayAdmin;
  beforeAll(async () => {
    fake = await startFakeLiteLLM({ masterKey: MASTER });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const run = () =>
    bootstrapGateway(
      { models: specs("gpt-5.4", "mini"), keyAlias: "chat-agent-lost", health: HEALTH },
      {
        admin: createGatewayAdmin({ dialect: "litellm", url: fake.url, adminKey: MASTER }),
        secrets: memorySecrets(),
        ...virtualTime(),
      },
    );

  it("deletes a model whose registration answered 500 after storing it (pinned id)", async () => {
    fake.failNext("registerModel", { afterSuccesses: 1, status: 500, commit: true });
    const outcome = await run();
    expect(outcome.ok).toBe(false);
    expect(fake.models()).toEqual([]);
    expect(fake.keys()).toEqual([]);
  });

  it("deletes a key whose generation answered 502 after creating it (by alias)", async () => {
    fake.failNext("createKey", { status: 502, commit: true });
    const outcome = await run();
    if (outcome.ok) throw new Error("expected a failure");
    expect(outcome.error.step).toBe("key");
    expect(outcome.error.cleanup.undone).toEqual(["key chat-agent-lost"]);
    expect(fake.keys()).toEqual([]);
  });
});

describe("npm run gateway:bootstrap (runBootstrapCli)", () => {
  let fake: FakeGatewayAdmin;
  beforeAll(async () => {
    fake = await startFakeModelManager({ masterKey: MASTER });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  function cli(argv: string[], secrets = memorySecrets()) {
    const out: string[] = [];
    const err: string[] = [];
    const stages: string[] = [];
    const code = runBootstrapCli(argv, {
      env: {
        GATEWAY_URL: `${fake.url}/`,
        GATEWAY_ADMIN_KEY: MASTER,
        GATEWAY_DIALECT: "model-manager",
      },
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      ...virtualTime(),
      secrets: (stage) => {
        stages.push(stage);
        return secrets;
      },
      health: { initialDelayMs: 10, maxDelayMs: 10 },
    });
    return { code, out, err, stages, secrets };
  }

  it("prints the gateway, the key's id and last 4 characters, and the models; exit 0", async () => {
    const run = cli(["--stage", "production", "--models", "gpt-5.4"]);
    expect(await run.code).toBe(0);

    const key = run.secrets.values.get("ModelManagerApiKey") ?? "";
    const [stored] = fake.keys();
    const printed = run.out.join("\n");
    expect(run.stages).toEqual(["production"]);
    expect(stored?.alias).toBe("chat-agent-production-20260102T030405Z");
    expect(printed).toContain(fake.url);
    expect(printed).toContain(`id ${stored?.id}, …${key.slice(-4)}`);
    expect(printed).toContain("models added:     gpt-5.4");
    expect(printed).toContain("npx sst deploy --stage production");
    expect(`${printed}\n${run.err.join("\n")}`).not.toContain(key);
  });

  it("exits 1 with the reason when the gateway stays down; nothing is left behind", async () => {
    fake.setHealthy(false);
    const run = cli(["--stage", "dev", "--health-timeout-ms", "50"]);
    expect(await run.code).toBe(1);
    expect(run.err.join("\n")).toMatch(
      /failed at step "health": .*did not become healthy within 50 ms/,
    );
    expect(run.err.join("\n")).toContain("nothing was created.");
    expect(run.out).toEqual([]);
    expect(run.secrets.values.size).toBe(0);
  });

  it("exits 2 on bad arguments or a missing gateway configuration", async () => {
    expect(await cli([]).code).toBe(2);
    expect(await cli(["--stage", "dev", "--models", "claude"]).code).toBe(2);
    const unconfigured = await runBootstrapCli(["--stage", "dev"], {
      env: {},
      out: () => {},
      err: () => {},
      ...virtualTime(),
    });
    expect(unconfigured).toBe(2);
  });
});

describe.each([
  ["litellm", startFakeLiteLLM],
  ["model-manager", startFakeModelManager],
] as const)("interrupting npm run gateway:bootstrap against a fake %s", (dialect, start) => {
  let fake: FakeGatewayAdmin;
  beforeAll(async () => {
    fake = await start({ masterKey: MASTER });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  /** The CLI with an abort signal; `sleep` defaults to virtual time. */
  function cli(argv: string[], controller: AbortController, sleep?: Sleep) {
    const out: string[] = [];
    const err: string[] = [];
    const pending: (readonly string[])[] = [];
    const secrets = memorySecrets();
    const time = virtualTime();
    const code = runBootstrapCli(argv, {
      env: { GATEWAY_URL: fake.url, GATEWAY_ADMIN_KEY: MASTER, GATEWAY_DIALECT: dialect },
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      now: time.now,
      sleep: sleep ?? time.sleep,
      secrets: () => secrets,
      health: { initialDelayMs: 10, maxDelayMs: 10 },
      signal: controller.signal,
      onPending: (items) => pending.push(items),
    });
    return { code, out, err, pending, secrets, time };
  }

  const registrations = () =>
    fake.requests.filter((r) => /^\/(model\/new|admin\/models\/openai)$/.test(r.path));

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s during the health wait creates nothing and exits %i", async (signal, exit) => {
    fake.setHealthy(false);
    const controller = new AbortController();
    let pauses = 0;
    const run = cli(["--stage", "dev"], controller, async (ms, s) => {
      pauses += 1;
      if (pauses === 3) controller.abort(new Interrupt(signal));
      // Like timers/promises setTimeout with a signal: an aborted pause rejects.
      s?.throwIfAborted();
      await new Promise((resolve) => setImmediate(resolve, ms));
    });

    expect(await run.code).toBe(exit);
    expect(run.err.slice(1)).toEqual([
      `Gateway bootstrap stopped at step "health": interrupted while waiting for ${fake.url} to become healthy (3 probes)`,
      "  nothing was created.",
    ]);
    expect(fake.healthProbes()).toBe(3);
    expect(fake.requests.every((r) => r.path.startsWith("/health"))).toBe(true);
    expect([fake.keys(), fake.models(), run.secrets.values.size, run.out]).toEqual([[], [], 0, []]);
  });

  it("Ctrl-C while a model registration is in flight deletes the key and the models already registered; exit 130", async () => {
    const held = fake.pauseNext("registerModel", { afterSuccesses: 1 });
    const controller = new AbortController();
    const run = cli(["--stage", "dev", "--models", "gpt-5.4,mini,o4-mini"], controller);
    await held.arrived;
    expect(fake.keys()).toHaveLength(1);
    expect(fake.models().map((m) => m.name)).toEqual(["gpt-5.4"]);
    // What a second Ctrl-C right now would list.
    expect(run.pending.at(-1)).toEqual([
      expect.stringMatching(/^key chat-agent-dev-/),
      expect.stringMatching(/^model gpt-5\.4 \(id .+\)$/),
      "model gpt-5.4-mini (registration in flight)",
    ]);

    controller.abort(new Interrupt("SIGINT"));
    expect(await run.code).toBe(130);
    held.release();
    expect(await held.settled).toBe("dropped");

    expect([fake.keys(), fake.models(), run.secrets.values.size]).toEqual([[], [], 0]);
    expect(run.err).toContain(
      'Gateway bootstrap stopped at step "models": interrupted while registering model gpt-5.4-mini',
    );
    expect(run.err).toContainEqual(
      expect.stringMatching(
        /^ {2}undone: model gpt-5\.4 \(id .+\); key chat-agent-dev-\S+ \(…\w{4}\)$/,
      ),
    );
    expect(run.err.join("\n")).not.toContain("LEFT BEHIND");
    expect(run.pending.at(-1)).toEqual([]);
    expect(registrations()).toHaveLength(2);
    expect(run.out).toEqual([]);
  });

  it("Ctrl-C after the gateway applied the in-flight registration deletes that model too", async () => {
    const held = fake.pauseNext("registerModel", { afterSuccesses: 1, commit: true });
    const controller = new AbortController();
    const run = cli(["--stage", "dev"], controller);
    await held.arrived;
    expect(fake.models().map((m) => m.name)).toEqual(["gpt-5.4", "gpt-5.4-mini"]);

    controller.abort(new Interrupt("SIGINT"));
    expect(await run.code).toBe(130);
    // LiteLLM: by the id the client pinned; model manager: found by name in the model list.
    expect([fake.keys(), fake.models()]).toEqual([[], []]);
    expect(run.err).toContainEqual(
      expect.stringMatching(
        /^ {2}undone: model gpt-5\.4-mini \(id .+\); model gpt-5\.4 \(id .+\); key chat-agent-dev-\S+ \(…\w{4}\)$/,
      ),
    );
    held.release();
    expect(await held.settled).toBe("dropped");
    expect(fake.models()).toEqual([]);
  });

  it("an interrupt that arrives while the key is being stored, which succeeds, keeps the result", async () => {
    const controller = new AbortController();
    const values = new Map<string, string>();
    const run = runBootstrapCli(["--stage", "dev", "--models", "gpt-5.4"], {
      env: { GATEWAY_URL: fake.url, GATEWAY_ADMIN_KEY: MASTER, GATEWAY_DIALECT: dialect },
      out: () => {},
      err: (line) => values.set(`err:${values.size}`, line),
      ...virtualTime(),
      secrets: () => ({
        description: "memory store",
        set: async (name, value) => {
          controller.abort(new Interrupt("SIGINT"));
          values.set(name, value);
        },
      }),
      signal: controller.signal,
    });

    expect(await run).toBe(0);
    expect(fake.keys().map((k) => k.key)).toEqual([values.get(MODEL_MANAGER_SECRET_NAME)]);
    expect(fake.models()).toHaveLength(1);
    expect([...values.values()]).toContain(
      "Interrupted too late to cancel: the key was already stored.",
    );
  });
});
