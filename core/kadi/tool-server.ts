/**
 * This agent's side of KĀDI tool calls: the tools it announces in `kadi.agent.register`, and
 * the answer to each inbound `kadi.ability.request {toolName, toolInput}`: the handler's result,
 * or a JSON-RPC error (https://www.jsonrpc.org/specification §5.1): -32602 for malformed params
 * or a handler's `KadiError` kind `"invalid_params"`, -32601 for an unknown tool, -32000 for any
 * other failure of the handler.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { loggableOrShape } from "../ingress/log-fields";
import { isKadiError, JSON_RPC_ERRORS } from "./errors";
import {
  AbilityRequestParamsSchema,
  describe,
  encodeError,
  encodeResult,
  type JsonRpcId,
  type ToolDescriptor,
} from "./protocol";
import type { KadiToolDefinition } from "./types";

/** The tools of one client, by name. */
export class ToolServer {
  readonly #tools = new Map<string, KadiToolDefinition>();
  readonly #logger: Logger;

  /** @throws Error when two tools share a name. */
  constructor(tools: KadiToolDefinition[], logger: Logger) {
    for (const tool of tools) {
      if (this.#tools.has(tool.name)) throw new Error(`duplicate KADI tool name: ${tool.name}`);
      this.#tools.set(tool.name, tool);
    }
    this.#logger = logger;
  }

  /** How many tools are served. */
  get size(): number {
    return this.#tools.size;
  }

  /** The tools as announced in `kadi.agent.register`. */
  descriptors(): ToolDescriptor[] {
    return [...this.#tools.values()].map(({ name, description, inputSchema }) => ({
      name,
      description,
      inputSchema,
    }));
  }

  /**
   * Runs the tool an inbound `kadi.ability.request` (JSON-RPC `id`, `params`) names. Resolves
   * with the encoded response frame; never rejects (a handler's failure is the error answer).
   */
  async serve(id: JsonRpcId, params: unknown): Promise<string> {
    const parsed = AbilityRequestParamsSchema.safeParse(params);
    if (!parsed.success) {
      return encodeError(id, {
        code: JSON_RPC_ERRORS.invalidParams,
        message: `invalid params: ${describe(parsed.error)}`,
      });
    }
    const { toolName, toolInput } = parsed.data;
    const tool = this.#tools.get(toolName);
    if (tool === undefined) {
      return encodeError(id, {
        code: JSON_RPC_ERRORS.methodNotFound,
        message: `unknown tool ${toolName}`,
      });
    }
    try {
      const result = await tool.handler(toolInput, { requestId: id });
      return encodeResult(id, result);
    } catch (error) {
      const invalidParams = isKadiError(error) && error.kind === "invalid_params";
      this.#logger.warn("KADI tool failed", {
        toolName,
        requestId: loggableOrShape(id),
        error,
      });
      return encodeError(id, {
        code: invalidParams ? JSON_RPC_ERRORS.invalidParams : JSON_RPC_ERRORS.toolFailed,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
