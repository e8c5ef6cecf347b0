/**
 * One probe per dependency: the cheapest call that proves it serves us, each run under a
 * timeout with its latency measured (see {@link runProbe}). Probes build their clients once,
 * at construction, so a warm Lambda container reuses connections between checks.
 */

import Anthropic from "@anthropic-ai/sdk";
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GATEWAY_HEALTH_ROUTES, type GatewayDialect } from "../constants/gateway";
import { ANTHROPIC_DEFAULT_BASE_URL } from "../llm/anthropic";
import { LlmError, toLlmError } from "../llm/errors";
import { createOpenAIClient } from "../llm/openai";
import type { HealthComponent, HealthRecord, ProbeDetails } from "./records";

/** A check of one component. */
export interface Probe {
  component: HealthComponent;
  /**
   * Resolves with details when the component serves, rejects otherwise (provider probes with
   * an `LlmError`, HTTP probes with a {@link ProbeHttpError}). `signal` aborts at the timeout.
   */
  run(signal: AbortSignal): Promise<ProbeDetails>;
}

/** Default per-probe timeout in ms: probes run in parallel, well inside the health check's
 * 60 s Lambda timeout (`HEALTH_CHECK.timeoutMs` in `core/constants/timings.ts`). */
export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

/** Longest `error` message stored, in characters. */
const MAX_ERROR_CHARS = 500;

/** A probe that did not finish within its timeout. */
export class ProbeTimeoutError extends Error {
  override readonly name = "ProbeTimeoutError";
}

/** An HTTP health route that answered with a non-2xx status. */
export class ProbeHttpError extends Error {
  override readonly name = "ProbeHttpError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `text` with every configured secret value replaced by `[redacted]` and URL userinfo
 * (`//user:pass@`) masked, cut to 500 characters: error messages are stored and served by
 * `/health?deep=1`, and some libraries echo request details into them.
 *
 * @param secrets - configured secret values; values under 4 characters are ignored, since
 *   masking them would shred ordinary words.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(/\/\/[^/\s:@]+:[^/\s@]+@/g, "//[redacted]@");
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out.length > MAX_ERROR_CHARS ? `${out.slice(0, MAX_ERROR_CHARS)}…` : out;
}

function failureKind(error: unknown): string {
  if (error instanceof ProbeTimeoutError) return "timeout";
  if (error instanceof LlmError) return error.kind;
  if (error instanceof ProbeHttpError) return "http";
  return "error";
}

/**
 * Runs `probe` with a timeout and measures it. Never rejects: a failure, including the
 * timeout (kind `timeout`), becomes `{ ok: false, error, kind }`. The probe's own promise is
 * abandoned (and its `signal` aborted) at the timeout, so a hung dependency costs exactly
 * `timeoutMs`.
 *
 * @param options.timeoutMs - default {@link DEFAULT_PROBE_TIMEOUT_MS}.
 * @param options.secrets - values to redact from error messages (see {@link redactSecrets}).
 */
export async function runProbe(
  probe: Probe,
  options: { timeoutMs?: number; now?: () => number; secrets?: readonly string[] } = {},
): Promise<HealthRecord> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ProbeTimeoutError(`${probe.component}: no answer within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const started = now();
  try {
    const details = await Promise.race([probe.run(controller.signal), timeout]);
    const finished = now();
    const record: HealthRecord = {
      component: probe.component,
      ok: true,
      latencyMs: finished - started,
      checkedAt: finished,
    };
    if (Object.keys(details).length > 0) record.details = details;
    return record;
  } catch (error) {
    const finished = now();
    const message = error instanceof Error ? error.message : String(error);
    return {
      component: probe.component,
      ok: false,
      latencyMs: finished - started,
      checkedAt: finished,
      error: redactSecrets(message, options.secrets ?? []),
      kind: failureKind(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link anthropicProbe}. */
export interface AnthropicProbeOptions {
  /** `ANTHROPIC_API_KEY`. */
  apiKey: string;
  /** `ANTHROPIC_BASE_URL`; default the SDK's host. */
  baseURL?: string;
  fetch?: typeof fetch;
}

/**
 * Anthropic: `GET /v1/models?limit=1` through the SDK (https://docs.anthropic.com/en/api/models-list),
 * an authenticated call that costs no tokens. Rejects with an `LlmError` (so a 401 is kind
 * `auth`, a refused connection `network`).
 */
export function anthropicProbe(options: AnthropicProbeOptions): Probe {
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL,
    maxRetries: 0,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    component: "anthropic",
    async run(signal) {
      try {
        const page = await client.models.list({ limit: 1 }, { signal });
        return { models: page.data.length };
      } catch (error) {
        throw toLlmError("anthropic", error);
      }
    },
  };
}

/** Options of {@link openAICompatibleProbe}. */
export interface OpenAICompatibleProbeOptions {
  /** `MODEL_MANAGER_BASE_URL`, including the API prefix, e.g. `http://host:4000/v1`. */
  baseURL: string;
  /** `MODEL_MANAGER_API_KEY`; a placeholder when absent (see `PLACEHOLDER_API_KEY`). */
  apiKey?: string;
  fetch?: typeof fetch;
}

/**
 * The OpenAI-compatible provider: `GET {MODEL_MANAGER_BASE_URL}/models` through the `openai`
 * SDK (https://platform.openai.com/docs/api-reference/models/list), which every
 * OpenAI-compatible server we target (the gateway, LiteLLM, vLLM, Ollama) serves. Details:
 * `{ models }`, the number listed. Rejects with an `LlmError`.
 */
export function openAICompatibleProbe(options: OpenAICompatibleProbeOptions): Probe {
  const client = createOpenAIClient(options);
  return {
    component: "openai-compatible",
    async run(signal) {
      try {
        const page = await client.models.list({ signal });
        return { models: page.data.length };
      } catch (error) {
        throw toLlmError("openai-compatible", error);
      }
    },
  };
}

async function httpCheck(
  url: string,
  signal: AbortSignal,
  fetchFn: typeof fetch,
): Promise<ProbeDetails> {
  const res = await fetchFn(url, { method: "GET", signal });
  // The body is not needed; reading it frees the connection for reuse.
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok)
    throw new ProbeHttpError(res.status, `HTTP ${res.status} from ${new URL(url).pathname}`);
  return { status: res.status };
}

/**
 * The model gateway's own health route on the origin of `url` (`GATEWAY_URL`):
 * `/health/liveliness` for LiteLLM, `/health` for the KĀDI model manager. Any 2xx is
 * healthy; details `{ status }`. Rejects with a {@link ProbeHttpError} or fetch's error.
 */
export function gatewayHealthProbe(options: {
  url: string;
  dialect: GatewayDialect;
  fetch?: typeof fetch;
}): Probe {
  const target = new URL(GATEWAY_HEALTH_ROUTES[options.dialect], options.url).toString();
  const fetchFn = options.fetch ?? fetch;
  return { component: "gateway", run: (signal) => httpCheck(target, signal, fetchFn) };
}

/**
 * ArcadeDB: `GET {origin}/api/v1/ready` (ArcadeDB HTTP API; 204 when the server accepts
 * requests, no credentials needed, so none are sent). `url` is `ARCADEDB_URL`
 * (`http://host:2480/{database}`); only its origin is used.
 */
export function arcadedbProbe(options: { url: string; fetch?: typeof fetch }): Probe {
  const target = new URL("/api/v1/ready", options.url).toString();
  const fetchFn = options.fetch ?? fetch;
  return { component: "arcadedb", run: (signal) => httpCheck(target, signal, fetchFn) };
}

/** Table states in which DynamoDB serves reads and writes. */
const SERVING_TABLE_STATES = new Set(["ACTIVE", "UPDATING"]);

/**
 * DynamoDB: `DescribeTable` on the memory table. Healthy while the table is `ACTIVE` or
 * `UPDATING` (both serve requests); details `{ tableStatus }`.
 */
export function dynamodbProbe(options: { client: DynamoDBClient; tableName: string }): Probe {
  return {
    component: "dynamodb",
    async run(signal) {
      const out = await options.client.send(
        new DescribeTableCommand({ TableName: options.tableName }),
        { abortSignal: signal },
      );
      const tableStatus = out.Table?.TableStatus ?? "UNKNOWN";
      if (!SERVING_TABLE_STATES.has(tableStatus)) {
        throw new Error(`table ${options.tableName} is ${tableStatus}`);
      }
      return { tableStatus };
    },
  };
}

/**
 * The DLQ of a queue from its `RedrivePolicy` attribute (a JSON string holding
 * `deadLetterTargetArn`, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html),
 * as the `GetQueueUrl` inputs; `undefined` when there is none or it is unreadable.
 */
export function dlqFromRedrivePolicy(
  redrivePolicy: string | undefined,
): { QueueName: string; QueueOwnerAWSAccountId?: string } | undefined {
  if (!redrivePolicy) return undefined;
  let arn: unknown;
  try {
    arn = (JSON.parse(redrivePolicy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
  } catch {
    return undefined;
  }
  // arn:aws:sqs:{region}:{account}:{name}
  const parts = typeof arn === "string" ? arn.split(":") : [];
  const name = parts[5];
  if (parts.length !== 6 || parts[0] !== "arn" || !name) return undefined;
  return parts[4] ? { QueueName: name, QueueOwnerAWSAccountId: parts[4] } : { QueueName: name };
}

function count(attributes: Record<string, string> | undefined, name: string): number {
  const value = Number(attributes?.[name]);
  return Number.isFinite(value) ? value : 0;
}

/**
 * A queue and its DLQ: `GetQueueAttributes` for `ApproximateNumberOfMessages` (→ `depth`),
 * `ApproximateNumberOfMessagesNotVisible` (→ `inFlight`) and `RedrivePolicy`; the DLQ's URL
 * is resolved once from the policy's ARN with `GetQueueUrl`, then its depth read
 * (→ `dlqDepth`). Healthy when the queue answers; depths are facts for metrics and alarms,
 * not verdicts.
 */
export function queueProbe(options: {
  component: "chat-queue" | "archive-queue";
  sqs: SQSClient;
  queueUrl: string;
}): Probe {
  const { sqs, queueUrl } = options;
  let dlqUrl: string | undefined;
  return {
    component: options.component,
    async run(signal) {
      const queue = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "RedrivePolicy",
          ],
        }),
        { abortSignal: signal },
      );
      const details: ProbeDetails = {
        depth: count(queue.Attributes, "ApproximateNumberOfMessages"),
        inFlight: count(queue.Attributes, "ApproximateNumberOfMessagesNotVisible"),
      };
      const dlq = dlqFromRedrivePolicy(queue.Attributes?.RedrivePolicy);
      if (!dlq) return details;
      dlqUrl ??= (await sqs.send(new GetQueueUrlCommand(dlq), { abortSignal: signal })).QueueUrl;
      if (!dlqUrl) throw new Error(`GetQueueUrl returned no URL for DLQ ${dlq.QueueName}`);
      const dead = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: dlqUrl,
          AttributeNames: ["ApproximateNumberOfMessages"],
        }),
        { abortSignal: signal },
      );
      details.dlqDepth = count(dead.Attributes, "ApproximateNumberOfMessages");
      return details;
    },
  };
}
