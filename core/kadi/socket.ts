/**
 * The KĀDI client's WebSocket (https://github.com/websockets/ws): opening with a handshake
 * deadline, text frames in and out, and closing with a grace period. No protocol and no policy:
 * `./connection` decides when to open, probe, give up and reconnect.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import WebSocket from "ws";
import { KadiError } from "./errors";
import type { KadiTimers } from "./types";

/** How long `close()` waits for the broker's close frame before cutting the socket, in ms. */
const CLOSE_GRACE_MS = 1_000;

/** One socket to the broker, as `./connection` uses it. */
export interface KadiSocket {
  /**
   * Resolves once the socket is open; rejects with `KadiError` kind `"network"` when it fails
   * or closes first.
   */
  readonly opened: Promise<void>;
  /** True while frames can be written. */
  readonly isOpen: boolean;
  /** Writes one text frame; when the socket is not open, logs and drops it. */
  send(text: string): void;
  /** Cuts the connection at once, without the close handshake. */
  terminate(): void;
  /**
   * Closes with code 1000, cutting the socket when the broker's close frame has not come within
   * 1 s. Resolves once closed; never rejects.
   */
  close(): Promise<void>;
}

/** Where a {@link KadiSocket} reports what arrives. */
export interface KadiSocketHooks {
  /** Each frame from the broker: its text, or `undefined` for a binary frame (KĀDI sends none). */
  onFrame: (text: string | undefined) => void;
  /** The socket closed, opened or not; `error` (kind `"network"`) names code and reason. */
  onClose: (error: KadiError) => void;
}

/** Settings of {@link openWebSocket}. */
export interface KadiSocketOptions {
  /** Broker WebSocket URL, `ws(s)://host:port/kadi`. */
  url: string;
  /** Limit of the opening handshake, in ms. */
  openTimeoutMs: number;
  logger: Logger;
  /** Timer of the close grace period. */
  timers: KadiTimers;
}

/** Opens a socket; the seam through which tests can replace the network. */
export type OpenKadiSocket = (options: KadiSocketOptions, hooks: KadiSocketHooks) => KadiSocket;

/** {@link OpenKadiSocket} on the `ws` library. Starts connecting at once. */
export const openWebSocket: OpenKadiSocket = (options, hooks) => {
  const { logger } = options;
  const ws = new WebSocket(options.url, { handshakeTimeout: options.openTimeoutMs });
  let opened = false;
  const openedPromise = new Promise<void>((resolve, reject) => {
    ws.on("error", (error) => {
      if (!opened) {
        reject(
          new KadiError("network", `cannot reach KADI broker: ${error.message}`, { cause: error }),
        );
      } else {
        logger.warn("KADI socket error", { error });
      }
    });
    ws.on("close", (code, reason) => {
      if (!opened) {
        reject(new KadiError("network", `KADI broker closed the connection (code ${code})`));
      }
      const text = reason.toString("utf8");
      hooks.onClose(
        new KadiError(
          "network",
          `KADI broker connection closed (code ${code}${text ? `, ${text}` : ""})`,
        ),
      );
    });
    ws.on("message", (data, isBinary) => {
      hooks.onFrame(isBinary ? undefined : rawDataToString(data));
    });
    ws.once("open", () => {
      opened = true;
      resolve();
    });
  });

  return {
    opened: openedPromise,
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
    send(text) {
      if (ws.readyState !== WebSocket.OPEN) {
        logger.warn("KADI frame not sent: socket not open");
        return;
      }
      ws.send(text, (error) => {
        // A failed write means the socket is going down; its close event fails what is pending.
        if (error) logger.warn("KADI send failed", { error });
      });
    },
    terminate() {
      ws.terminate();
    },
    close() {
      return new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) {
          resolve();
          return;
        }
        const cancel = options.timers.schedule(() => ws.terminate(), CLOSE_GRACE_MS);
        ws.once("close", () => {
          cancel();
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else if (ws.readyState === WebSocket.OPEN) ws.close(1000, "client closing");
      });
    },
  };
};

function rawDataToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
