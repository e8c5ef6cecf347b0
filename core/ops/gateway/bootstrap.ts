/**
 * The gateway bootstrap (docs/deployment.md, "6. The model gateway on DigitalOcean"): wait for
 * health, generate an API key, register the models, store the key as a secret. Any failure or interrupt after
 * the first create undoes everything this run created, newest first, so the gateway is left as
 * it was.
 */
import type { GatewayDialect } from "../../constants/gateway";
import {
  type Created,
  type CreatedKey,
  type GatewayAdmin,
  GatewayAdminError,
  lastFour,
  type ModelSpec,
  type RegisteredModel,
} from "./admin";
import { MODEL_MANAGER_SECRET_NAME, type SecretStore } from "./secret-store";
import { DEFAULT_HEALTH_WAIT, type HealthWaitOptions, type Sleep, waitForHealthy } from "./wait";

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
  /**
   * Cancels the run (the CLI fires it on SIGINT/SIGTERM). It is checked between steps and
   * passed to the health wait and to every admin call except the deletes; once it fires, the
   * run undoes what it created, as after a failure, and returns an error with
   * `interrupted: true`. Firing it while the key is being stored changes nothing if storing
   * succeeds: the run is complete then.
   */
  signal?: AbortSignal;
}

/** Collaborators, injected so tests control time and storage. */
export interface BootstrapDeps {
  admin: GatewayAdmin;
  secrets: SecretStore;
  /** The current time, epoch ms (`Date.now` in production). */
  now: () => number;
  sleep: Sleep;
  /** Receives one line per step; lines never contain a key. */
  progress?: (line: string) => void;
  /**
   * Receives, each time it changes, what this run may have created on the gateway and not
   * undone yet (labels as in {@link CleanupReport}, including a create still in flight); empty
   * after success. Lets a caller that must exit before the undo ends say what to delete by hand.
   */
  onPending?: (items: readonly string[]) => void;
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

/**
 * A failed or interrupted run: the step, the reason (`message`, starting with `interrupted` when
 * the run was cancelled), the undo report, and the original error.
 */
export class BootstrapError extends Error {
  override readonly name = "BootstrapError";
  /** The run was cancelled through {@link BootstrapOptions.signal} rather than failing. */
  readonly interrupted: boolean;
  constructor(
    readonly step: BootstrapStep,
    message: string,
    readonly cleanup: CleanupReport,
    options?: { cause?: unknown; interrupted?: boolean },
  ) {
    super(message, options);
    this.interrupted = options?.interrupted ?? false;
  }
}

/** Outcome of {@link bootstrapGateway}. */
export type BootstrapResult =
  | { ok: true; summary: BootstrapSummary }
  | { ok: false; error: BootstrapError };

/**
 * Runs the bootstrap. Never rejects: every failure, including unexpected ones, and every
 * interrupt come back as `{ok: false, error}` after undoing what this run created.
 */
export async function bootstrapGateway(
  options: BootstrapOptions,
  deps: BootstrapDeps,
): Promise<BootstrapResult> {
  const { admin, secrets } = deps;
  const { signal } = options;
  const progress = deps.progress ?? (() => {});
  const onPending = deps.onPending ?? (() => {});
  const secretName = options.secretName ?? MODEL_MANAGER_SECRET_NAME;
  const healthOptions = options.health ?? DEFAULT_HEALTH_WAIT;
  const created: Created[] = [];
  let existing: RegisteredModel[] = [];

  const pending = (inFlight?: string) =>
    onPending([...created.map(describe), ...(inFlight ? [inFlight] : [])]);

  const finish = async (
    step: BootstrapStep,
    message: string,
    cause: unknown,
    interrupted: boolean,
    unknown: LeftBehind[] = [],
  ) => {
    const cleanup = await undo(admin, created, onPending);
    cleanup.leftBehind.push(...unknown);
    onPending(cleanup.leftBehind.map((item) => item.item));
    return {
      ok: false as const,
      error: new BootstrapError(step, message, cleanup, { cause, interrupted }),
    };
  };

  const interruptedBefore = (step: BootstrapStep, doing: string) =>
    finish(step, `interrupted before ${doing}`, signal?.reason, true);

  const failed = async (step: BootstrapStep, doing: string, cause: unknown, spec?: ModelSpec) => {
    const unknown = cause instanceof GatewayAdminError ? await recover(cause, spec) : [];
    if (!signal?.aborted) {
      return finish(step, `${doing} failed: ${messageOf(cause)}`, cause, false, unknown);
    }
    // The terminal's Ctrl-C also reaches `sst secret set`, which may have written the value.
    const hint = step === "secret" ? "; the secret may hold the deleted key until a rerun" : "";
    return finish(step, `interrupted while ${doing}${hint}`, cause, true, unknown);
  };

  /**
   * Adds to `created` what a failed create may have made anyway. A pinned id comes with the
   * error. Without one, and without an answer to read (lost connection, timeout, interrupt,
   * unreadable body), a model is looked up by name: the run only registers names the gateway
   * did not serve, so a new deployment of that name is this run's. Keys cannot be listed, so
   * such a key is reported as possibly left behind.
   */
  const recover = async (error: GatewayAdminError, spec?: ModelSpec): Promise<LeftBehind[]> => {
    if (error.possiblyCreated) {
      created.push(error.possiblyCreated);
      return [];
    }
    if (error.status !== undefined) return [];
    if (error.operation === "createKey") {
      return [{ item: `key ${options.keyAlias} (if created)`, reason: error.message }];
    }
    if (error.operation !== "registerModel" || !spec) return [];
    try {
      const known = new Set([
        ...existing.map((m) => m.id),
        ...created.flatMap((c) => (c.kind === "model" ? [c.model.id] : [])),
      ]);
      for (const model of await admin.listModels()) {
        if (model.name === spec.name && !known.has(model.id)) {
          created.push({ kind: "model", model });
        }
      }
      return [];
    } catch (listError) {
      return [
        {
          item: `model ${spec.name} (if created; id unknown)`,
          reason: `${error.message}; listing the models to find it failed: ${messageOf(listError)}`,
        },
      ];
    }
  };

  progress(`waiting for ${admin.url} (${admin.dialect}) to become healthy`);
  const health = await waitForHealthy((ms, s) => admin.health(ms, s), healthOptions, {
    now: deps.now,
    sleep: deps.sleep,
    signal,
  });
  if (!health.ok) {
    if (health.interrupted) {
      const doing = `waiting for ${admin.url} to become healthy (${health.probes} probes)`;
      return finish("health", `interrupted while ${doing}`, signal?.reason, true);
    }
    const message =
      `gateway at ${admin.url} did not become healthy within ${healthOptions.budgetMs} ms ` +
      `(${health.probes} probes; last: ${health.lastReason})`;
    return { ok: false, error: new BootstrapError("health", message, emptyCleanup()) };
  }

  if (signal?.aborted) return interruptedBefore("inspect", "listing the gateway's models");
  try {
    existing = await admin.listModels(signal);
  } catch (error) {
    return failed("inspect", "listing the gateway's models", error);
  }
  const served = new Set(existing.map((m) => m.name));

  if (signal?.aborted) return interruptedBefore("key", "generating the API key");
  let key: CreatedKey;
  pending(`key ${options.keyAlias}`);
  try {
    key = await admin.createKey(
      { alias: options.keyAlias, models: options.models.map((m) => m.name) },
      signal,
    );
  } catch (error) {
    return failed("key", "generating the API key", error);
  }
  created.push({ kind: "key", key });
  pending();
  progress(`generated key ${key.alias} (${lastFour(key.key)})`);

  const registered: RegisteredModel[] = [];
  const alreadyPresent: RegisteredModel[] = [];
  for (const spec of options.models) {
    if (served.has(spec.name)) {
      alreadyPresent.push(...existing.filter((m) => m.name === spec.name));
      progress(`model ${spec.name} already served; left as is`);
      continue;
    }
    const doing = `registering model ${spec.name}`;
    if (signal?.aborted) return interruptedBefore("models", doing);
    pending(`model ${spec.name} (registration in flight)`);
    try {
      const model = await admin.registerModel(spec, signal);
      created.push({ kind: "model", model });
      registered.push(model);
      pending();
      progress(`registered model ${model.name} (id ${model.id})`);
    } catch (error) {
      return failed("models", doing, error, spec);
    }
  }

  const storing = `storing ${secretName} in ${secrets.description}`;
  if (signal?.aborted) return interruptedBefore("secret", storing);
  try {
    await secrets.set(secretName, key.key);
  } catch (error) {
    return failed("secret", storing, error);
  }
  onPending([]);
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

type LeftBehind = CleanupReport["leftBehind"][number];

/**
 * Deletes `created` newest first, without a signal: it runs after an interrupt too, bounded by
 * the admin client's own per-request timeout. Each failure is reported, none stops the rest;
 * `onPending` hears what is still to delete (or could not be) after each step.
 */
async function undo(
  admin: GatewayAdmin,
  created: readonly Created[],
  onPending: (items: readonly string[]) => void,
): Promise<CleanupReport> {
  const report = emptyCleanup();
  const order = [...created].reverse();
  const labels = order.map(describe);
  if (order.length > 0) onPending(labels);
  for (const [index, item] of order.entries()) {
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
    onPending([...report.leftBehind.map((left) => left.item), ...labels.slice(index + 1)]);
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
