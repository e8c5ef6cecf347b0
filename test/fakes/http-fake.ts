/**
 * Shared plumbing for the wire-level fakes: a throwaway `node:http` server plus the small
 * helpers (JSON/SSE writing, ids, failure queue, text extraction) the fakes have in common.
 */
import { randomBytes } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { StreamBehaviour } from "./llm-stream";
import type { LlmReply, ScriptEntry } from "./llm-tools";

/** One request as a fake received it: Node's lower-cased headers and the parsed JSON body. */
export interface RecordedRequest {
  headers: IncomingHttpHeaders;
  /** The JSON body as sent; `{}` when the body was not a JSON object. */
  body: Record<string, unknown>;
}

/** Handles one request; `rawBody` is the whole request body decoded as UTF-8. */
export type RequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  rawBody: string,
) => void | Promise<void>;

/** A running fake HTTP server on 127.0.0.1 with an OS-assigned port. */
export interface HttpFake {
  /** Origin, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** While `true`, every request has its socket destroyed, so clients see a connection error. */
  setDown(down: boolean): void;
  /** Stops the server and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

/**
 * Starts a server that hands each request, with its body read, to `handle`.
 * @param options.port - listen on this port (e.g. to restart a closed fake where clients
 *   still point); default an OS-assigned one.
 */
export async function startHttpFake(
  handle: RequestHandler,
  options: { port?: number } = {},
): Promise<HttpFake> {
  let down = false;
  const server = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    readBody(req)
      .then((raw) => handle(req, res, raw))
      .catch((err: unknown) => {
        // A bug in a fake must surface as a loud 500, not as a hung test.
        if (res.headersSent) res.destroy();
        else sendJson(res, 500, { fake_error: String(err) });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setDown: (value) => {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes `body` as a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

/** Writes one server-sent event: an optional `event:` line, then `data:` and a blank line. */
export function writeSse(res: ServerResponse, data: string, event?: string): void {
  res.write(`${event ? `event: ${event}\n` : ""}data: ${data}\n\n`);
}

/** Parses `raw` as JSON; a non-object (or unparseable) body becomes `undefined`. */
export function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `{ "retry-after": "<seconds>" }`, or no headers when `seconds` is undefined. */
export function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { "retry-after": String(seconds) };
}

/** A random id with a provider-style prefix, e.g. `fakeId("msg_")`. */
export function fakeId(prefix: string): string {
  return prefix + randomBytes(12).toString("hex");
}

/** FIFO of injected failures; each `add` enqueues `times` copies. */
export class FailureQueue<T> {
  #items: T[] = [];

  add(item: T, times = 1): void {
    for (let i = 0; i < times; i++) this.#items.push(item);
  }

  /** Removes and returns the first queued item accepted by `match`. */
  take(match: (item: T) => boolean = () => true): T | undefined {
    const index = this.#items.findIndex(match);
    return index < 0 ? undefined : this.#items.splice(index, 1)[0];
  }

  clear(): void {
    this.#items = [];
  }
}

/**
 * Plain text of a message `content` in either provider's format: a string, or an array of
 * parts of which the `{ type: "text", text }` ones count (joined with newlines).
 */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(
      (part): part is { text: string } => part?.type === "text" && typeof part.text === "string",
    )
    .map((part) => part.text)
    .join("\n");
}

/** Text of the last `role: "user"` entry of a `messages` array; `""` if there is none. */
export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  const last = messages.findLast((m) => m?.role === "user") as { content?: unknown } | undefined;
  return textOf(last?.content);
}

/**
 * Deterministic stand-in for a token count: the number of whitespace-separated words, so
 * tests can predict usage figures without a tokenizer.
 */
export function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** Splits text into word-sized stream deltas whose concatenation is exactly `text`. */
export function streamChunks(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/**
 * Produces the answer of an LLM fake for a request that passed all checks: its text, or
 * `{ text?, toolCalls: [{ name, input, id?, rawArguments? }] }` to call tools (see `LlmReply`
 * in `./llm-tools`).
 */
export type ReplyFn = (request: RecordedRequest) => LlmReply | Promise<LlmReply>;

/** Options of an LLM fake's `failNext`. */
export interface LlmFailureOptions {
  /** How many consecutive requests fail. Default 1. */
  times?: number;
  /** Sent as the `retry-after` header, in seconds (fractions allowed). Default: no header. */
  retryAfterSeconds?: number;
  /** The error body's message. Default: a generic message for the status. */
  message?: string;
}

/** The controls every LLM fake offers besides its provider-specific `failNext`. */
export interface LlmFakeControls {
  /** Every completion request received, oldest first, including rejected ones. */
  requests: RecordedRequest[];
  /** While `true`, connections are destroyed on arrival (clients see a connection error). */
  setDown(down: boolean): void;
  /**
   * Replaces the reply function, which answers every request the script has no entry for; no
   * argument restores the one from the options/default. A function answering each round of a
   * tool conversation from what came back:
   * `setReply((req) => lastToolResult(req) ? { text: "Here: " + lastToolResult(req)?.content }
   * : { toolCalls: [{ name: "file_share", input: { path: "build.tar" } }] })`.
   */
  setReply(reply?: ReplyFn): void;
  /**
   * Queues one-off answers: each entry answers one later request that passes the fake's checks
   * (injected failures and rejected requests consume none), oldest first; then the reply
   * function answers again. An entry is text, `{ text?, toolCalls }`, or a function of the
   * request returning either, e.g.
   * `script({ toolCalls: [{ name: "search_memory", input: { query: "q" } }] }, "Found it.")`.
   * Streamed and non-streamed requests take from the same queue.
   */
  script(...entries: ScriptEntry[]): void;
  /**
   * Replaces how every later stream is paced and fails (see `StreamBehaviour`); no argument
   * restores the fake's `stream` option.
   */
  setStream(behaviour?: StreamBehaviour): void;
  /**
   * The next `times` (default 1) streamed requests use `behaviour`, laid over the current one,
   * e.g. `streamNext({ failAfterTokens: 3 })` keeps the pacing and fails after 3 words.
   */
  streamNext(behaviour: StreamBehaviour, times?: number): void;
  /**
   * Clears recorded requests, pending failures, queued script entries and stream behaviours,
   * restores the reply and the `stream` option, brings the fake up.
   */
  reset(): void;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}
