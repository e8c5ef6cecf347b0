import { describe, expect, it } from "vitest";
import { lastFour } from "../../core/ops/gateway/admin";
import { BootstrapError, type BootstrapSummary } from "../../core/ops/gateway/bootstrap";
import {
  createInterruptHandler,
  defaultKeyAlias,
  formatAbandoned,
  formatFailure,
  formatSummary,
  Interrupt,
  parseBootstrapArgs,
  REPEATED_DELIVERY_MS,
} from "../../core/ops/gateway/cli";
import { createAdminHttp, errorText } from "../../core/ops/gateway/http";
import { environmentReference, modelNewBody } from "../../core/ops/gateway/litellm";
import { openAiModelBody } from "../../core/ops/gateway/model-manager";
import { DEFAULT_GATEWAY_MODELS, modelSpecs } from "../../core/ops/gateway/models";

describe("parseBootstrapArgs", () => {
  it("applies the defaults", () => {
    expect(parseBootstrapArgs(["--stage", "production"])).toEqual({
      kind: "args",
      args: {
        stage: "production",
        models: ["gpt-5.4", "gpt-5.4-mini"],
        upstreamBaseUrl: undefined,
        upstreamKeyEnv: "OPENAI_API_KEY",
        healthTimeoutMs: 300_000,
        keyAlias: undefined,
      },
    });
  });

  it("reads every option", () => {
    const parsed = parseBootstrapArgs([
      "--stage=dev",
      "--models",
      " gpt-5.4 , o4-mini ,",
      "--upstream-base-url",
      "https://llm.internal/v1",
      "--upstream-key-env",
      "",
      "--health-timeout-ms",
      "60000",
      "--key-alias",
      "my-key",
    ]);
    expect(parsed).toEqual({
      kind: "args",
      args: {
        stage: "dev",
        models: ["gpt-5.4", "o4-mini"],
        upstreamBaseUrl: "https://llm.internal/v1",
        upstreamKeyEnv: "",
        healthTimeoutMs: 60_000,
        keyAlias: "my-key",
      },
    });
  });

  it("reports every problem", () => {
    const parsed = parseBootstrapArgs([
      "--upstream-base-url",
      "ftp://x",
      "--upstream-key-env",
      "OPENAI KEY",
      "--health-timeout-ms",
      "5m",
    ]);
    expect(parsed).toEqual({
      kind: "invalid",
      problems: [
        "--stage is required",
        "--upstream-base-url must be an http(s) URL",
        "--upstream-key-env must be a variable name",
        "--health-timeout-ms must be a whole number of ms",
      ],
    });
    expect(parseBootstrapArgs(["--stage", "x", "--bogus"])).toMatchObject({ kind: "invalid" });
    expect(parseBootstrapArgs(["--stage", "a b"])).toMatchObject({ kind: "invalid" });
  });

  it("recognises --help", () => {
    expect(parseBootstrapArgs(["--help"])).toEqual({ kind: "help" });
  });
});

describe("modelSpecs", () => {
  it("resolves aliases, drops duplicates and carries the upstream settings", () => {
    expect(
      modelSpecs(["gpt", "mini", "gpt-5.4"], { apiBase: "https://u/v1", apiKeyEnv: "K" }),
    ).toEqual({
      ok: true,
      specs: [
        { name: "gpt-5.4", upstreamModel: "gpt-5.4", apiBase: "https://u/v1", apiKeyEnv: "K" },
        {
          name: "gpt-5.4-mini",
          upstreamModel: "gpt-5.4-mini",
          apiBase: "https://u/v1",
          apiKeyEnv: "K",
        },
      ],
    });
  });

  it("rejects models the agent would not route to the gateway", () => {
    expect(modelSpecs(["sonnet", "llama3", "o3"], {})).toEqual({
      ok: false,
      problems: [
        "sonnet: not a gpt*/o* model the agent routes to the gateway",
        "llama3: not a gpt*/o* model the agent routes to the gateway",
      ],
    });
    expect(modelSpecs([], {})).toEqual({ ok: false, problems: ["no models given"] });
  });

  it("defaults to the model manager's default and its mini sibling", () => {
    expect(DEFAULT_GATEWAY_MODELS).toEqual(["gpt-5.4", "gpt-5.4-mini"]);
  });
});

describe("dialect request bodies", () => {
  const spec = {
    name: "gpt-5.4",
    upstreamModel: "gpt-5.4",
    apiBase: "https://u/v1",
    apiKeyEnv: "OPENAI_API_KEY",
  };

  it("LiteLLM: openai/ prefix, os.environ/ key reference, pinned id", () => {
    expect(environmentReference("OPENAI_API_KEY")).toBe("os.environ/OPENAI_API_KEY");
    expect(modelNewBody(spec, "id-1")).toEqual({
      model_name: "gpt-5.4",
      litellm_params: {
        model: "openai/gpt-5.4",
        api_base: "https://u/v1",
        api_key: "os.environ/OPENAI_API_KEY",
      },
      model_info: { id: "id-1" },
    });
    expect(modelNewBody({ name: "a", upstreamModel: "b" }, "x").litellm_params).toEqual({
      model: "openai/b",
    });
  });

  it("model manager: name, model, baseUrl, apiKeyEnv", () => {
    expect(openAiModelBody(spec)).toEqual({
      name: "gpt-5.4",
      model: "gpt-5.4",
      baseUrl: "https://u/v1",
      apiKeyEnv: "OPENAI_API_KEY",
    });
  });
});

describe("errorText", () => {
  it("finds the message in the error bodies gateways send", () => {
    expect(errorText({ error: { message: "bad key", type: "auth_error" } })).toBe("bad key");
    expect(errorText({ detail: "Not Found" })).toBe("Not Found");
    expect(errorText({ error: "nope" })).toBe("nope");
    expect(errorText("Bad Gateway")).toBe("Bad Gateway");
    expect(errorText(undefined)).toBe("(empty body)");
    expect(errorText({ detail: [{ msg: "Field required" }] })).toBe(
      '{"detail":[{"msg":"Field required"}]}',
    );
    expect(errorText("x".repeat(400))).toHaveLength(301);
  });

  it("masks the admin key when the gateway echoes it in an error body", async () => {
    const adminKey = "sk-admin-echoed-0123456789";
    const call = createAdminHttp({
      dialect: "litellm",
      url: "http://gateway.invalid",
      adminKey,
      timeoutMs: 1_000,
      fetch: async () =>
        Response.json(
          { error: { message: `Authentication Error, Received API Key = ${adminKey}` } },
          { status: 401 },
        ),
    });
    const error = await call({ operation: "listModels", method: "GET", path: "/model/info" }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(
      "GET /model/info answered 401: Authentication Error, Received API Key = [redacted]",
    );
  });
});

describe("createAdminHttp with an abort signal", () => {
  /** A fetch that never answers, rejecting only when its signal fires. */
  const hanging: typeof fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
    });
  const call = createAdminHttp({
    dialect: "model-manager",
    url: "http://gateway.invalid",
    adminKey: "sk-admin",
    timeoutMs: 60_000,
    fetch: hanging,
  });
  const registration = {
    operation: "registerModel",
    method: "POST",
    path: "/admin/models/openai",
  } as const;

  it("rejects with `interrupted` when the signal fires mid-request", async () => {
    const controller = new AbortController();
    const pending = call({ ...registration, signal: controller.signal });
    controller.abort(new Interrupt("SIGINT"));
    await expect(pending).rejects.toMatchObject({
      name: "GatewayAdminError",
      operation: "registerModel",
      status: undefined,
      message: "POST /admin/models/openai failed: interrupted",
    });
  });

  it("keeps the per-request timeout next to the signal", async () => {
    const pending = call({ ...registration, timeoutMs: 1, signal: new AbortController().signal });
    await expect(pending).rejects.toThrow("POST /admin/models/openai failed: timed out");
  });
});

describe("interrupts", () => {
  it("exit with 128 + the signal number", () => {
    expect(new Interrupt("SIGINT").exitCode).toBe(130);
    expect(new Interrupt("SIGTERM").exitCode).toBe(143);
  });

  function handler(pending: readonly string[]) {
    let now = 0;
    const aborted: Interrupt[] = [];
    const err: string[] = [];
    const exits: number[] = [];
    const handle = createInterruptHandler({
      abort: (reason) => aborted.push(reason),
      pending: () => pending,
      err: (line) => err.push(line),
      exit: (code) => exits.push(code),
      now: () => now,
    });
    return { handle, aborted, err, exits, advance: (ms: number) => (now += ms) };
  }

  it("cancel the run on the first signal and ignore its echo under npm run", () => {
    const h = handler(["key k (…abcd)"]);
    h.handle("SIGINT");
    h.advance(30);
    h.handle("SIGINT");
    expect(h.aborted.map((reason) => reason.signal)).toEqual(["SIGINT"]);
    expect(h.err).toEqual([
      "SIGINT: stopping and undoing what this run created (Ctrl-C again to quit now)",
    ]);
    expect(h.exits).toEqual([]);
  });

  it("quit at once on a second signal, listing what may be left behind", () => {
    const h = handler(["model gpt-5.4 (id m1)", "key k (…abcd)"]);
    h.handle("SIGTERM");
    h.advance(REPEATED_DELIVERY_MS);
    h.handle("SIGINT");
    expect(h.aborted).toHaveLength(1);
    expect(h.err.slice(1)).toEqual([
      "Quitting before the undo finished. These may be left on the gateway; delete them by hand:",
      "  model gpt-5.4 (id m1)",
      "  key k (…abcd)",
    ]);
    expect(h.exits).toEqual([130]);
  });

  it("say so when nothing is left", () => {
    expect(formatAbandoned([])).toEqual([
      "Quitting now; nothing this run created is left on the gateway.",
    ]);
  });
});

describe("reports", () => {
  it("shows a key only as its last 4 characters", () => {
    expect(lastFour("sk-0123456789abcd")).toBe("…abcd");
    expect(lastFour("short")).toBe("…");
  });

  it("names the key alias with a UTC timestamp", () => {
    expect(defaultKeyAlias("production", Date.UTC(2026, 4, 6, 7, 8, 9, 123))).toBe(
      "chat-agent-production-20260506T070809Z",
    );
  });

  it("formats a success", () => {
    const summary: BootstrapSummary = {
      gatewayUrl: "https://gw.example.com",
      dialect: "litellm",
      key: { id: "chat-agent-dev-1", alias: "chat-agent-dev-1", lastFour: "…abcd" },
      secret: { name: "ModelManagerApiKey", store: "SST secret (stage dev)" },
      registered: [{ id: "m1", name: "gpt-5.4-mini" }],
      alreadyPresent: [{ id: "m0", name: "gpt-5.4" }],
      health: { probes: 3, elapsedMs: 3_000 },
    };
    expect(formatSummary(summary, "dev")).toEqual([
      "Gateway bootstrap succeeded.",
      "  gateway:          https://gw.example.com (litellm), healthy after 3 probe(s)",
      "  key:              chat-agent-dev-1 (id chat-agent-dev-1, …abcd)",
      "  stored as:        ModelManagerApiKey in SST secret (stage dev)",
      "  models added:     gpt-5.4-mini",
      "  already present:  gpt-5.4",
      "Next: set MODEL_MANAGER_BASE_URL=https://gw.example.com/v1 and run npx sst deploy --stage dev",
    ]);
  });

  it("formats a failure with what was undone and what was left behind", () => {
    const error = new BootstrapError("models", "registering model gpt-5.4-mini failed: 500", {
      undone: ["model gpt-5.4 (id m1)"],
      leftBehind: [{ item: "key k (…abcd)", reason: "timed out" }],
    });
    expect(formatFailure(error)).toEqual([
      'Gateway bootstrap failed at step "models": registering model gpt-5.4-mini failed: 500',
      "  undone: model gpt-5.4 (id m1)",
      "  LEFT BEHIND, delete by hand: key k (…abcd) (timed out)",
    ]);
  });

  it("formats an interrupted run as stopped", () => {
    const error = new BootstrapError(
      "health",
      "interrupted while waiting for https://gw to become healthy (2 probes)",
      { undone: [], leftBehind: [] },
      { interrupted: true },
    );
    expect(formatFailure(error)).toEqual([
      'Gateway bootstrap stopped at step "health": interrupted while waiting for https://gw to become healthy (2 probes)',
      "  nothing was created.",
    ]);
  });
});
