import { CONSOLE_TOKEN_HEADER } from "../../local/console/address";
import { readConsoleEvents } from "../../local/console/client";
import type { ConsoleEvent } from "../../local/console/hub";
import { waitFor } from "./wait";

/** A console event stream read by the test: every event so far, and a way to wait for one. */
export interface ConsoleEvents {
  events: ConsoleEvent[];
  /** The first event matching `match` (already received or arriving within 20 s). */
  next<T extends ConsoleEvent["type"]>(
    type: T,
    match?: (event: Extract<ConsoleEvent, { type: T }>) => boolean,
  ): Promise<Extract<ConsoleEvent, { type: T }>>;
  close(): void;
}

/**
 * Opens `GET /console/api/events` of one conversation (server-sent events) and resolves once
 * the server's `ready` event arrived, so a message sent after this is seen from its first word.
 */
export async function openConsoleEvents(
  baseUrl: string,
  token: string,
  who: { user: string; channel: string },
): Promise<ConsoleEvents> {
  const abort = new AbortController();
  const res = await fetch(`${baseUrl}/console/api/events?user=${who.user}&channel=${who.channel}`, {
    headers: { [CONSOLE_TOKEN_HEADER]: token },
    signal: abort.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`events answered ${res.status}`);
  const events: ConsoleEvent[] = [];
  let ready = false;
  void readConsoleEvents(res.body, {
    ready: () => {
      ready = true;
    },
    event: (event) => events.push(event),
  });
  await waitFor(() => (ready ? true : undefined), 5_000);
  return {
    events,
    next: (type, match) =>
      waitFor(() =>
        events.find(
          (e): e is Extract<ConsoleEvent, { type: typeof type }> =>
            e.type === type && (match?.(e as never) ?? true),
        ),
      ),
    close: () => abort.abort(),
  };
}

/** `fetch` of a console API path with the token header (unless `token` is `null`). */
export function consoleFetch(
  baseUrl: string,
  token: string | null,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${baseUrl}/console/api/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      "content-type": "application/json",
      ...(token === null ? {} : { [CONSOLE_TOKEN_HEADER]: token }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The JSON body of a console API answer, as `T` (the route's documented shape). */
export async function consoleJson<T = Record<string, unknown>>(
  baseUrl: string,
  token: string,
  path: string,
  body?: unknown,
): Promise<T> {
  return (await (await consoleFetch(baseUrl, token, path, body)).json()) as T;
}
