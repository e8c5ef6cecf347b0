/**
 * The gateway bootstrap (design.md, "Model gateway on DigitalOcean"): wait for health, generate
 * an API key, register the models, store the key as a secret. Any failure after the first
 * create undoes everything this run created, newest first, so the gateway is left as it was.
 */
import {
  type Created,
  type CreatedKey,
  type GatewayAdmin,
  GatewayAdminError,
  type GatewayDialect,
  lastFour,
  type ModelSpec,
  type RegisteredModel,
} from "./admin";
import { MODEL_MANAGER_SECRET_NAME, type SecretStore } from "./secret-store";
import {
  type Clock,
  DEFAULT_HEALTH_WAIT,
  type HealthWaitOptions,
  type Sleep,
  waitForHealthy,
} from "./wait";

/** What to set up. */
export interface BootstrapOptions {
  /** Models to expose; names already served by the gateway are left alone. */
  models: readonly ModelSpec[];
  /** Label of the generated key, e.g. `chat-agent-production-20260101T120000Z`. */
  keyAlias: string;
  /** Secret to store the key in; default {@link MODEL_MANAGER_SECRET_NAME}. */
  secretName?: string;
  /** Health wait budget and backoff; default {@link DEFAULT_HEALTH_WAIT}. */
  health?: HealthWaitOptions;
}

/** Collaborators, injected so tests control time and storage. */
export interface BootstrapDeps {
  admin: GatewayAdmin;
  secrets: SecretStore;
  clock: Clock;
  sleep: Sleep;
  /** Receives one line per step; lines never contain a key. */
  progress?: (line: string) => void;
}

/** What a successful run set up. Holds no secret: the key appears as its last 4 characters. */
export interface BootstrapSummary {
  gatewayUrl: string;
  dialect: GatewayDialect;
  key: { id: string; alias: string; lastFour: string };
  secret: { name: string; store: string };
  /** Models this run registered. */
  registered: RegisteredModel[];
  /** Requested models the gateway already served (not touched, not undone). */
  alreadyPresent: RegisteredModel[];
  health: { probes: number; elapsedMs: number };
}

/** Step at which a run failed. */
export type BootstrapStep = "health" | "inspect" | "key" | "models" | "secret";

/** What the undo after a failure achieved. */
export interface CleanupReport {
  /**
   * Items deleted again, e.g. `model gpt-5.4 (id 3f…)`. Items that turned out not to exist
   * (a create that failed without effect) are not listed.
   */
  undone: string[];
  /** Items that could not be deleted and need removing by hand, with the reason. */
  leftBehind: { item: string; reason: string }[];
}

/** A failed run: the step, the reason (`message`), the undo report, and the original error. */
export class BootstrapError extends Error {
  override readonly name = "BootstrapError";
  constructor(
    readonly step: BootstrapStep,
    message: string,
    readonly cleanup: CleanupReport,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Outcome of {@link bootstrapGateway}. */
export type BootstrapResult =
  | { ok: true; summary: BootstrapSummary }
  | { ok: false; error: BootstrapError };

/**
 * Runs the bootstrap. Never rejects: every failure, including unexpected ones, comes back as
 * `{ok: false, error}` after undoing what this run created.
 */
export async function bootstrapGateway(
  options: BootstrapOptions,
  deps: BootstrapDeps,
): Promise<BootstrapResult> {
  const { admin, secrets } = deps;
  const progress = deps.progress ?? (() => {});
  const secretName = options.secretName ?? MODEL_MANAGER_SECRET_NAME;
  const healthOptions = options.health ?? DEFAULT_HEALTH_WAIT;
  const created: Created[] = [];

  const fail = async (step: BootstrapStep, message: string, cause: unknown) => {
    if (cause instanceof GatewayAdminError && cause.possiblyCreated) {
      created.push(cause.possiblyCreated);
    }
    const cleanup = await undo(admin, created);
    return { ok: false as const, error: new BootstrapError(step, message, cleanup, { cause }) };
  };

  progress(`waiting for ${admin.url} (${admin.dialect}) to become healthy`);
  const health = await waitForHealthy((ms) => admin.health(ms), healthOptions, deps);
  if (!health.ok) {
    const message =
      `gateway at ${admin.url} did not become healthy within ${healthOptions.budgetMs} ms ` +
      `(${health.probes} probes; last: ${health.lastReason})`;
    return { ok: false, error: new BootstrapError("health", message, emptyCleanup()) };
  }

  let existing: RegisteredModel[];
  try {
    existing = await admin.listModels();
  } catch (error) {
    return fail("inspect", `listing the gateway's models failed: ${messageOf(error)}`, error);
  }
  const served = new Set(existing.map((m) => m.name));

  let key: CreatedKey;
  try {
    key = await admin.createKey({
      alias: options.keyAlias,
      models: options.models.map((m) => m.name),
    });
  } catch (error) {
    return fail("key", `generating the API key failed: ${messageOf(error)}`, error);
  }
  created.push({ kind: "key", key });
  progress(`generated key ${key.alias} (${lastFour(key.key)})`);

  const registered: RegisteredModel[] = [];
  const alreadyPresent: RegisteredModel[] = [];
  for (const spec of options.models) {
    if (served.has(spec.name)) {
      alreadyPresent.push(...existing.filter((m) => m.name === spec.name));
      progress(`model ${spec.name} already served; left as is`);
      continue;
    }
    try {
      const model = await admin.registerModel(spec);
      created.push({ kind: "model", model });
      registered.push(model);
      progress(`registered model ${model.name} (id ${model.id})`);
    } catch (error) {
      return fail("models", `registering model ${spec.name} failed: ${messageOf(error)}`, error);
    }
  }

  try {
    await secrets.set(secretName, key.key);
  } catch (error) {
    return fail(
      "secret",
      `storing ${secretName} in ${secrets.description} failed: ${messageOf(error)}`,
      error,
    );
  }
  progress(`stored the key as ${secretName} in ${secrets.description}`);

  return {
    ok: true,
    summary: {
      gatewayUrl: admin.url,
      dialect: admin.dialect,
      key: { id: key.id, alias: key.alias, lastFour: lastFour(key.key) },
      secret: { name: secretName, store: secrets.description },
      registered,
      alreadyPresent,
      health: { probes: health.probes, elapsedMs: health.elapsedMs },
    },
  };
}

/** Deletes `created` newest first; each failure is reported, none stops the rest. */
async function undo(admin: GatewayAdmin, created: readonly Created[]): Promise<CleanupReport> {
  const report = emptyCleanup();
  for (const item of [...created].reverse()) {
    const label = describe(item);
    try {
      const existed =
        item.kind === "model"
          ? await admin.deleteModel(item.model)
          : await admin.deleteKey(item.key);
      if (existed) report.undone.push(label);
    } catch (error) {
      report.leftBehind.push({ item: label, reason: messageOf(error) });
    }
  }
  return report;
}

function describe(item: Created): string {
  return item.kind === "model"
    ? `model ${item.model.name} (id ${item.model.id})`
    : `key ${item.key.alias}${item.key.key ? ` (${lastFour(item.key.key)})` : ""}`;
}

function emptyCleanup(): CleanupReport {
  return { undone: [], leftBehind: [] };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
