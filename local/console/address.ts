/**
 * How a client finds and authenticates to a running console; kept apart from the server's
 * modules so `npm run chat` loads none of them.
 */

/** Where a running stack tells `npm run chat` its console address: `{DATA_DIR}/console.json`. */
export const CONSOLE_FILE = "console.json";

/** Header the CLI sends the console token in; the page sends a cookie instead. */
export const CONSOLE_TOKEN_HEADER = "x-console-token";

/** How a client reaches a running console. */
export interface ConsoleAddress {
  /** The page's URL, token included: `http://127.0.0.1:{port}/?token={token}`. */
  url: string;
  /** Base URL of the stack, `http://127.0.0.1:{port}`. */
  baseUrl: string;
  /** The per-start token (64 hex characters). */
  token: string;
}
