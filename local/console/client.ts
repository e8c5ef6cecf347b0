import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { WebConversation } from "../../core/platforms/web/job";
import { CONSOLE_FILE, CONSOLE_TOKEN_HEADER, type ConsoleAddress } from "./address";
import type { ConsoleEvent } from "./hub";
import type { ConsoleHealth, ConsoleMemory } from "./routes";

/** Why the console cannot be reached; `message` says what to do. */
export class ConsoleUnreachableError extends Error {
  override readonly name = "ConsoleUnreachableError";
}

/**
 * The console's address: from `url` (the page URL with `?token=`, as `npm start` prints it)
 * when given, else from `{dataDir}/console.json`, which a running `npm start` writes.
 * @throws {ConsoleUnreachableError} when neither gives an address with a token.
 */
export async function findConsole(dataDir: string, url?: string): Promise<ConsoleAddress> {
  if (url) {
    const parsed = new URL(url);
    const token = parsed.searchParams.get("token");
    if (!token) throw new ConsoleUnreachableError(`--url needs the ?token= that npm start printed`);
    return { url, baseUrl: parsed.origin, token };
  }
  const path = join(dataDir, CONSOLE_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConsoleUnreachableError(
      `the local stack is not running (no ${path}): start it with npm start`,
      { cause: error },
    );
  }
  const saved = JSON.parse(text) as Partial<ConsoleAddress>;
  if (!saved.baseUrl || !saved.token || !saved.url) {
    throw new ConsoleUnreachableError(`${path} is not a console address: restart npm start`);
  }
  return { url: saved.url, baseUrl: saved.baseUrl, token: saved.token };
}

/**
 * The console API for one conversation, as `npm run chat` uses it (the page uses the same
 * routes): see `mountConsole` for each route's shape. Every call throws
 * {@link ConsoleUnreachableError} when the stack does not answer or refuses the token, and an
 * `Error` `{status}: {error}` for any other refusal (a 400 names the field).
 */
export class ConsoleClient {
  constructor(
    private readonly address: ConsoleAddress,
    readonly who: WebConversation,
  ) {}

  private async call<T>(path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.address.baseUrl}/console/api/${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { "content-type": "application/json", [CONSOLE_TOKEN_HEADER]: this.address.token },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ConsoleUnreachableError(
        `the local stack is not running at ${this.address.baseUrl}: start it with npm start`,
        { cause: error },
      );
    }
    const parsed = (await res.json().catch(() => ({}))) as { error?: string };
    if (res.status === 401) {
      throw new ConsoleUnreachableError(
        "the console token is not this stack's: use the URL the running npm start printed",
      );
    }
    if (!res.ok) throw new Error(`${res.status}: ${parsed.error ?? res.statusText}`);
    return parsed as T;
  }

  private get query(): string {
    return `user=${encodeURIComponent(this.who.user)}&channel=${encodeURIComponent(this.who.channel)}`;
  }

  /** @throws {ConsoleUnreachableError} when the stack does not answer or refuses the token. */
  health(): Promise<ConsoleHealth> {
    return this.call("health");
  }

  /** Sends one message; resolves with its job id once the stack queued it. */
  async send(text: string): Promise<string> {
    return (await this.call<{ jobId: string }>("messages", { ...this.who, text })).jobId;
  }

  memory(): Promise<ConsoleMemory> {
    return this.call(`memory?${this.query}`);
  }

  forget(): Promise<{ messages: number; summaries: number }> {
    return this.call("forget", this.who);
  }

  /** Stores the model preference. @throws an `Error` naming the field for an unknown model. */
  async setModel(model: string): Promise<void> {
    await this.call("model", { ...this.who, model });
  }

  /**
   * Subscribes to the conversation's events (server-sent events) and resolves once the server
   * is ready, so a message sent after this is seen from its first word.
   * @returns the function that closes the stream.
   */
  async subscribe(onEvent: (event: ConsoleEvent) => void): Promise<() => void> {
    const abort = new AbortController();
    const res = await fetch(`${this.address.baseUrl}/console/api/events?${this.query}`, {
      headers: { [CONSOLE_TOKEN_HEADER]: this.address.token },
      signal: abort.signal,
    }).catch((error: unknown) => {
      throw new ConsoleUnreachableError(
        `the local stack is not running at ${this.address.baseUrl}: start it with npm start`,
        { cause: error },
      );
    });
    if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
    let resolveReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      resolveReady = resolve;
    });
    void readConsoleEvents(res.body, { ready: resolveReady, event: onEvent });
    await ready;
    return () => abort.abort();
  }
}

/**
 * Reads the console's event stream (`GET /console/api/events`, server-sent events) from
 * `body` until it ends or is aborted: `ready` once the server's `ready` event arrives, `event`
 * with each {@link ConsoleEvent} after it. Resolves when the stream ends; never rejects (an
 * aborted or broken stream just ends).
 */
export async function readConsoleEvents(
  body: ReadableStream<Uint8Array>,
  on: { ready(): void; event(event: ConsoleEvent): void },
): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type === "ready") on.ready();
        else if (type && data) on.event(JSON.parse(data) as ConsoleEvent);
      }
    }
  } catch {
    // aborted or closed
  }
}
