/**
 * The KĀDI broker wire format (docs/architecture.md, "KĀDI wire protocol"): JSON-RPC 2.0 messages
 * (https://www.jsonrpc.org/specification) over a WebSocket, one JSON text per frame. The broker
 * may send string ids and may omit `"jsonrpc"`, so both are tolerated on input; our own output
 * always carries `"jsonrpc":"2.0"`. Shared by the client (`./client`) and the test fake broker.
 */
import * as z from "zod";

/** Method names of the protocol. */
export const KADI_METHODS = {
  hello: "kadi.session.hello",
  authenticate: "kadi.session.authenticate",
  ping: "kadi.session.ping",
  register: "kadi.agent.register",
  abilityRequest: "kadi.ability.request",
  abilityResponse: "kadi.ability.response",
  abilityList: "kadi.ability.list",
  subscribe: "kadi.event.subscribe",
  publish: "kadi.event.publish",
  delivery: "kadi.event.delivery",
} as const;

/** JSON-RPC id: a string or a number (JSON-RPC 2.0 §4; the broker uses strings). */
export const JsonRpcIdSchema = z.union([z.string(), z.number()]);
/** See {@link JsonRpcIdSchema}. */
export type JsonRpcId = z.infer<typeof JsonRpcIdSchema>;

/** JSON-RPC error object (§5.1): integer `code`, `message`, optional `data`. */
export const JsonRpcErrorObjectSchema = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});
/** See {@link JsonRpcErrorObjectSchema}. */
export type JsonRpcErrorObject = z.infer<typeof JsonRpcErrorObjectSchema>;

const JsonRpcVersion = z.literal("2.0").optional();

const RequestSchema = z.object({
  jsonrpc: JsonRpcVersion,
  id: JsonRpcIdSchema,
  method: z.string().min(1),
  params: z.unknown().optional(),
});
const NotificationSchema = z.object({
  jsonrpc: JsonRpcVersion,
  id: z.null().optional(),
  method: z.string().min(1),
  params: z.unknown().optional(),
});
const SuccessSchema = z.object({
  jsonrpc: JsonRpcVersion,
  id: JsonRpcIdSchema,
  result: z.unknown(),
});
const FailureSchema = z.object({
  jsonrpc: JsonRpcVersion,
  id: JsonRpcIdSchema.nullable().optional(),
  error: JsonRpcErrorObjectSchema,
});

/** One inbound frame, classified. `invalid` carries a reason (never the raw payload). */
export type JsonRpcMessage =
  | { kind: "request"; id: JsonRpcId; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "success"; id: JsonRpcId; result: unknown }
  | { kind: "failure"; id: JsonRpcId | null; error: JsonRpcErrorObject }
  | {
      kind: "invalid";
      reason: string;
      id: JsonRpcId | null;
      /** True when the frame had a `method`, i.e. a malformed request that deserves an answer. */
      hadMethod: boolean;
    };

/**
 * Parses and classifies one WebSocket text frame. Pure; never throws. A member `method` makes
 * a request (with a non-null `id`) or a notification; otherwise `error` makes a failure and a
 * present `result` key a success. Batches (JSON arrays) are not used by KĀDI and are `invalid`.
 */
export function parseJsonRpcMessage(text: string): JsonRpcMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: "not JSON", id: null, hadMethod: false };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", reason: "not a JSON object", id: null, hadMethod: false };
  }
  const rawId = (value as { id?: unknown }).id;
  const id = typeof rawId === "string" || typeof rawId === "number" ? rawId : null;
  if ("method" in value) {
    const isRequest = rawId !== undefined && rawId !== null;
    const parsed = (isRequest ? RequestSchema : NotificationSchema).safeParse(value);
    if (!parsed.success) {
      return { kind: "invalid", reason: describe(parsed.error), id, hadMethod: true };
    }
    const { method, params } = parsed.data;
    return isRequest && id !== null
      ? { kind: "request", id, method, params }
      : { kind: "notification", method, params };
  }
  if ("error" in value) {
    const parsed = FailureSchema.safeParse(value);
    if (!parsed.success) return invalid(describe(parsed.error), id);
    return { kind: "failure", id: parsed.data.id ?? null, error: parsed.data.error };
  }
  if ("result" in value) {
    const parsed = SuccessSchema.safeParse(value);
    if (!parsed.success) return invalid(describe(parsed.error), id);
    return { kind: "success", id: parsed.data.id, result: parsed.data.result };
  }
  return invalid("neither method, result nor error", id);
}

function invalid(reason: string, id: JsonRpcId | null): JsonRpcMessage {
  return { kind: "invalid", reason, id, hadMethod: false };
}

/** Serialises a request (`id` set) or, with `id` undefined, a notification. */
export function encodeRequest(method: string, params: unknown, id?: JsonRpcId): string {
  return JSON.stringify(
    id === undefined ? { jsonrpc: "2.0", method, params } : { jsonrpc: "2.0", id, method, params },
  );
}

/** Serialises a success response to request `id`. */
export function encodeResult(id: JsonRpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", id, result: result === undefined ? null : result });
}

/** Serialises an error response; `id` is null when the request's id could not be read (§5). */
export function encodeError(id: JsonRpcId | null, error: JsonRpcErrorObject): string {
  return JSON.stringify({ jsonrpc: "2.0", id, error });
}

/** Short human description of a zod failure (paths and messages, never input values). */
export function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}

// --- Method payloads -----------------------------------------------------------------------

/** `kadi.session.hello` params. */
export const HelloParamsSchema = z.object({ role: z.string().min(1) });
/** `kadi.session.hello` result: the nonce to sign (any string; signed as its UTF-8 bytes). */
export const HelloResultSchema = z.object({ nonce: z.string().min(1) });

/** `kadi.session.authenticate` params; `publicKey` base64 SPKI DER, `signature` base64. */
export const AuthenticateParamsSchema = z.object({
  publicKey: z.string().min(1),
  signature: z.string().min(1),
  nonce: z.string().min(1),
  wantNewId: z.boolean().optional(),
});
/** See {@link AuthenticateParamsSchema}. */
export type AuthenticateParams = z.infer<typeof AuthenticateParamsSchema>;
/** `kadi.session.authenticate` result. */
export const AuthenticateResultSchema = z.object({ agentId: z.string().min(1) });

/** A tool as announced in `kadi.agent.register` (`inputSchema` is JSON Schema). */
export const ToolDescriptorSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
});
/** See {@link ToolDescriptorSchema}. */
export type ToolDescriptor = z.infer<typeof ToolDescriptorSchema>;

/** `kadi.agent.register` params. */
export const RegisterParamsSchema = z.object({
  tools: z.array(ToolDescriptorSchema),
  networks: z.array(z.string().min(1)),
  displayName: z.string().min(1),
});
/** See {@link RegisterParamsSchema}. */
export type RegisterParams = z.infer<typeof RegisterParamsSchema>;

/**
 * `kadi.ability.request` params. Outbound (caller → broker) carries `targetAgent?` and
 * `timeout` (ms); inbound (broker → provider) carries only `toolName` and `toolInput`.
 */
export const AbilityRequestParamsSchema = z.object({
  targetAgent: z.string().min(1).optional(),
  toolName: z.string().min(1),
  toolInput: z.unknown(),
  timeout: z.number().nonnegative().optional(),
});
/** See {@link AbilityRequestParamsSchema}. */
export type AbilityRequestParams = z.infer<typeof AbilityRequestParamsSchema>;

/** Result of an outbound `kadi.ability.request` when the call runs asynchronously. */
export const AbilityPendingResultSchema = z.object({
  status: z.literal("pending"),
  requestId: JsonRpcIdSchema,
});

/**
 * `kadi.ability.response` notification params. `error` is a JSON-RPC error object or a bare
 * message string; absent or null means success and `result` holds the tool's answer.
 */
export const AbilityResponseParamsSchema = z.object({
  requestId: JsonRpcIdSchema,
  result: z.unknown().optional(),
  error: z.union([JsonRpcErrorObjectSchema, z.string()]).nullable().optional(),
});
/** See {@link AbilityResponseParamsSchema}. */
export type AbilityResponseParams = z.infer<typeof AbilityResponseParamsSchema>;

/** `kadi.ability.list` params: the networks to list and whether to name each ability's agents. */
export const AbilityListParamsSchema = z.object({
  networks: z.array(z.string().min(1)),
  includeProviders: z.boolean().optional(),
});
/** See {@link AbilityListParamsSchema}. */
export type AbilityListParams = z.infer<typeof AbilityListParamsSchema>;

/** A provider of an ability: an agent id or name, or an object naming one. */
const AbilityProviderSchema = z.union([
  z.string().min(1),
  z
    .object({
      agentId: z.string().min(1).nullish(),
      displayName: z.string().min(1).nullish(),
      name: z.string().min(1).nullish(),
    })
    .transform((p) => p.agentId ?? p.displayName ?? p.name ?? undefined),
]);

/**
 * One entry of a `kadi.ability.list` answer: a `name`, and `description`, `inputSchema` (JSON
 * Schema) and `providers` when present (null reads as absent). Fields not named here are
 * dropped, so a broker that says more about an ability is still understood.
 */
export const AbilityListEntrySchema = z.object({
  name: z.string().min(1),
  description: z
    .string()
    .nullish()
    .transform((v) => v ?? undefined),
  inputSchema: z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((v) => v ?? undefined),
  providers: z
    .array(AbilityProviderSchema)
    .nullish()
    .transform((v) => v?.filter((p): p is string => p !== undefined)),
});
/** See {@link AbilityListEntrySchema}. */
export type AbilityListEntry = z.output<typeof AbilityListEntrySchema>;

/**
 * `kadi.ability.list` result: `{tools: [...]}`. Entries are validated one by one (see
 * {@link AbilityListEntrySchema}), so one malformed entry does not hide the others.
 */
export const AbilityListResultSchema = z.object({ tools: z.array(z.unknown()) });

/** `kadi.event.subscribe` params. */
export const SubscribeParamsSchema = z.object({
  channels: z.array(z.string().min(1)).min(1),
  networkId: z.string().min(1),
});

/** `kadi.event.publish` params (`networkId` required). */
export const PublishParamsSchema = z.object({
  channel: z.string().min(1),
  data: z.unknown(),
  networkId: z.string().min(1),
});

/** `kadi.event.delivery` notification params. */
export const EventDeliveryParamsSchema = z.object({
  channel: z.string().min(1),
  data: z.unknown(),
});

/** `kadi.session.ping` result. */
export const PongResultSchema = z.literal("pong");
