import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeGatewayAdmin, startFakeLiteLLM, startFakeModelManager } from "./gateway-admin";

const MASTER = "sk-master-test";

/** Raw wire calls of one dialect, so the fake is tested without our own client. */
interface Wire {
  start(): Promise<FakeGatewayAdmin>;
  healthPath: string;
  healthyBody: unknown;
  createKey(alias: string, models: string[]): { method: string; path: string; body: unknown };
  keyOf(body: Record<string, unknown>): string;
  registerModel(name: string): { method: string; path: string; body: unknown };
  modelIdOf(body: Record<string, unknown>): string;
  deleteModel(id: string): { method: string; path: string; body?: unknown };
  listModels: { method: string; path: string };
  errorMessageOf(body: Record<string, unknown>): unknown;
  invalidModelStatus: number;
}

const litellmWire: Wire = {
  start: () => startFakeLiteLLM({ masterKey: MASTER }),
  healthPath: "/health/liveliness",
  healthyBody: "I'm alive!",
  createKey: (alias, models) => ({
    method: "POST",
    path: "/key/generate",
    body: { key_alias: alias, models },
  }),
  keyOf: (body) => body.key as string,
  registerModel: (name) => ({
    method: "POST",
    path: "/model/new",
    body: {
      model_name: name,
      litellm_params: { model: `openai/${name}`, api_key: "os.environ/OPENAI_API_KEY" },
    },
  }),
  modelIdOf: (body) => (body.model_info as { id: string }).id,
  deleteModel: (id) => ({ method: "POST", path: "/model/delete", body: { id } }),
  listModels: { method: "GET", path: "/model/info" },
  errorMessageOf: (body) => (body.error as { message?: unknown }).message,
  invalidModelStatus: 422,
};

const modelManagerWire: Wire = {
  start: () => startFakeModelManager({ masterKey: MASTER }),
  healthPath: "/health",
  healthyBody: { status: "ok" },
  createKey: (alias, models) => ({
    method: "POST",
    path: "/admin/api-keys",
    body: { name: alias, models },
  }),
  keyOf: (body) => body.key as string,
  registerModel: (name) => ({
    method: "POST",
    path: "/admin/models/openai",
    body: { name, model: name, apiKeyEnv: "OPENAI_API_KEY" },
  }),
  modelIdOf: (body) => body.id as string,
  deleteModel: (id) => ({ method: "DELETE", path: `/admin/models/${id}` }),
  listModels: { method: "GET", path: "/admin/models" },
  errorMessageOf: (body) => (body.error as { message?: unknown }).message,
  invalidModelStatus: 400,
};

describe.each([
  ["LiteLLM", litellmWire],
  ["KĀDI model manager", modelManagerWire],
])("fake %s admin API", (_name, wire) => {
  let fake: FakeGatewayAdmin;

  beforeAll(async () => {
    fake = await wire.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  async function send(
    request: { method: string; path: string; body?: unknown },
    token: string | null = MASTER,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(fake.url + request.path, {
      method: request.method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(request.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : {} };
  }

  const probe = async () => {
    const response = await fetch(fake.url + wire.healthPath);
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it("pauseNext holds a request until released, then answers and applies it", async () => {
    const held = fake.pauseNext("registerModel");
    const pending = send(wire.registerModel("gpt-5.4"));
    await held.arrived;
    expect(fake.models()).toEqual([]);
    held.release();
    expect((await pending).status).toBeLessThan(300);
    expect(await held.settled).toBe("answered");
    expect(fake.models().map((m) => m.name)).toEqual(["gpt-5.4"]);
  });

  it("pauseNext drops a held request whose client went away; commit applies it first", async () => {
    const aborted = new AbortController();
    const held = fake.pauseNext("registerModel");
    const request = wire.registerModel("gpt-5.4");
    const gone = fetch(fake.url + request.path, {
      method: request.method,
      headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
      body: JSON.stringify(request.body),
      signal: aborted.signal,
    }).catch((error: unknown) => error);
    await held.arrived;
    aborted.abort();
    await gone;
    // The abort reaches the server as a socket close on its next turn of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.release();
    expect(await held.settled).toBe("dropped");
    expect(fake.models()).toEqual([]);

    const committed = fake.pauseNext("registerModel", { afterSuccesses: 1, commit: true });
    expect((await send(wire.registerModel("gpt-5.4-mini"))).status).toBeLessThan(300);
    const second = send(wire.registerModel("gpt-5.4"));
    await committed.arrived;
    expect(
      fake
        .models()
        .map((m) => m.name)
        .sort(),
    ).toEqual(["gpt-5.4", "gpt-5.4-mini"]);
    committed.release();
    expect((await second).status).toBeLessThan(300);
  });

  it("answers the health route without auth while healthy, 503 while not", async () => {
    expect(await probe()).toEqual({ status: 200, body: wire.healthyBody });
    fake.setHealthy(false);
    expect((await probe()).status).toBe(503);
    const admin = await send(wire.listModels);
    expect(admin.status).toBe(503);
    expect(fake.healthProbes()).toBe(2);
  });

  it("stays unhealthy for the given number of probes, then recovers", async () => {
    fake.healthyAfter(2);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await probe()).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(fake.healthProbes()).toBe(3);
  });

  it("rejects admin calls without the master key and creates nothing", async () => {
    const anonymous = await send(wire.createKey("a", []), null);
    const wrong = await send(wire.createKey("b", []), "sk-wrong");
    expect([anonymous.status, wrong.status]).toEqual([401, 401]);
    expect(wire.errorMessageOf(wrong.body)).toMatch(/Authentication Error/);
    expect(fake.keys()).toEqual([]);
  });

  it("generates keys that work on /v1/models for the models they allow", async () => {
    await send(wire.registerModel("gpt-5.4"));
    await send(wire.registerModel("gpt-5.4-mini"));
    const created = await send(wire.createKey("bootstrap-1", ["gpt-5.4"]));
    expect(created.status).toBeLessThan(300);
    const key = wire.keyOf(created.body);
    expect(fake.keys()).toEqual([
      expect.objectContaining({ key, alias: "bootstrap-1", models: ["gpt-5.4"] }),
    ]);

    const client = new OpenAI({ apiKey: key, baseURL: `${fake.url}/v1`, maxRetries: 0 });
    const listed = [];
    for await (const model of client.models.list()) listed.push(model.id);
    expect(listed).toEqual(["gpt-5.4"]);

    const stranger = new OpenAI({ apiKey: "sk-unknown", baseURL: `${fake.url}/v1`, maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it("registers, lists and deletes models; deleting an unknown id is 404", async () => {
    const created = await send(wire.registerModel("gpt-5.4"));
    const id = wire.modelIdOf(created.body);
    expect(fake.models()).toEqual([expect.objectContaining({ id, name: "gpt-5.4" })]);
    const listed = await send(wire.listModels);
    expect(JSON.stringify(listed.body)).toContain(id);

    expect((await send(wire.deleteModel(id))).status).toBeLessThan(300);
    expect(fake.models()).toEqual([]);
    expect((await send(wire.deleteModel(id))).status).toBe(404);
  });

  it("rejects a registration without a model name", async () => {
    const request = wire.registerModel("x");
    const response = await send({ ...request, body: {} });
    expect(response.status).toBe(wire.invalidModelStatus);
    expect(fake.models()).toEqual([]);
  });

  it("fails registrations after N successes, then works again", async () => {
    fake.failNext("registerModel", { afterSuccesses: 1, status: 500 });
    const statuses = [];
    for (const name of ["gpt-a", "gpt-b", "gpt-c"]) {
      statuses.push((await send(wire.registerModel(name))).status);
    }
    expect(statuses.map((s) => s < 300)).toEqual([true, false, true]);
    expect(fake.models().map((m) => m.name)).toEqual(["gpt-a", "gpt-c"]);
  });

  it("with commit, applies the change and still answers the error", async () => {
    fake.failNext("createKey", { status: 502, commit: true, message: "upstream hiccup" });
    const response = await send(wire.createKey("committed", []));
    expect(response.status).toBe(502);
    expect(wire.errorMessageOf(response.body)).toBe("upstream hiccup");
    expect(fake.keys().map((k) => k.alias)).toEqual(["committed"]);
  });

  it("records requests, drops connections while down, and resets", async () => {
    await send(wire.createKey("k", []));
    expect(fake.requests.at(-1)).toMatchObject({
      method: "POST",
      path: wire.createKey("", []).path,
    });
    fake.setDown(true);
    await expect(fetch(fake.url + wire.healthPath)).rejects.toThrow();
    fake.reset();
    expect(fake.keys()).toEqual([]);
    expect(fake.requests).toEqual([]);
    expect((await probe()).status).toBe(200);
  });
});

describe("fake LiteLLM specifics", () => {
  let fake: FakeGatewayAdmin;
  beforeAll(async () => {
    fake = await startFakeLiteLLM({ masterKey: MASTER });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const post = (path: string, body: unknown) =>
    fetch(fake.url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("keeps a pinned model_info.id and returns the stored row", async () => {
    const response = await post("/model/new", {
      model_name: "gpt-5.4",
      litellm_params: { model: "openai/gpt-5.4" },
      model_info: { id: "pinned-1" },
    });
    expect(await response.json()).toMatchObject({
      model_id: "pinned-1",
      model_name: "gpt-5.4",
      litellm_params: { model: "openai/gpt-5.4" },
      model_info: { id: "pinned-1" },
    });
    const duplicate = await post("/model/new", {
      model_name: "gpt-5.4",
      litellm_params: { model: "openai/gpt-5.4" },
      model_info: { id: "pinned-1" },
    });
    expect(duplicate.status).toBe(400);
  });

  it("requires unique key aliases and deletes keys by value or alias", async () => {
    const first = (await (await post("/key/generate", { key_alias: "a" })).json()) as {
      key: string;
    };
    expect((await post("/key/generate", { key_alias: "a" })).status).toBe(400);
    await post("/key/generate", { key_alias: "b" });

    const byValue = await post("/key/delete", { keys: [first.key] });
    expect(await byValue.json()).toEqual({ deleted_keys: [first.key] });
    expect((await post("/key/delete", { key_aliases: ["b"] })).status).toBe(200);
    expect(fake.keys()).toEqual([]);
    expect((await post("/key/delete", { key_aliases: ["b"] })).status).toBe(404);
  });
});
