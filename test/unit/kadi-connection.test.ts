import { describe, expect, it } from "vitest";
import { KadiConnection } from "../../core/kadi/connection";
import { KadiError } from "../../core/kadi/errors";
import type { KadiSocket, KadiSocketHooks } from "../../core/kadi/socket";
import type { KadiClientState } from "../../core/kadi/types";
import { createLogger } from "../../core/logger";
import { ManualTimers } from "../support/manual-timers";

const logger = createLogger("kadi-connection-test", "SILENT");

/** Lets pending promise continuations run (the connection awaits between timer steps). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A socket that opens, or is refused, as the test planned; `drop()` loses it. */
class FakeSocket implements KadiSocket {
  isOpen = false;
  readonly opened: Promise<void>;
  readonly #hooks: KadiSocketHooks;

  constructor(hooks: KadiSocketHooks, refuse: boolean) {
    this.#hooks = hooks;
    this.opened = refuse
      ? Promise.reject(new KadiError("network", "cannot reach KADI broker: refused"))
      : Promise.resolve().then(() => {
          this.isOpen = true;
        });
    if (refuse) queueMicrotask(() => this.drop());
  }

  send(): void {}

  terminate(): void {
    this.drop();
  }

  async close(): Promise<void> {
    this.drop();
  }

  drop(): void {
    this.isOpen = false;
    this.#hooks.onClose(new KadiError("network", "KADI broker connection closed (code 1006)"));
  }
}

describe("KadiConnection", () => {
  it("reconnects with backoff 1, 2, 4 s on the injected timers, and starts over after a success", async () => {
    const timers = new ManualTimers();
    const opens: number[] = [];
    const sockets: FakeSocket[] = [];
    /** Whether each next socket is refused; past the plan, sockets open. */
    const refusals = [false, true, true, false, false];
    const states: KadiClientState[] = [];
    const connection = new KadiConnection({
      url: "ws://broker.invalid/kadi",
      logger,
      openTimeoutMs: 1_000,
      now: timers.now,
      timers,
      openSocket: (_options, hooks) => {
        opens.push(timers.nowMs);
        const socket = new FakeSocket(hooks, refusals.shift() ?? false);
        sockets.push(socket);
        return socket;
      },
      handshake: async (enter) => {
        enter("authenticating");
        enter("registering");
        return {};
      },
      onFrame: () => {},
      ping: async () => "pong",
      onDetach: () => {},
    });
    connection.onStateChange((state) => states.push(state));

    await connection.connect();
    expect(connection.state).toBe("ready");
    sockets[0]?.drop();
    for (const stepMs of [999, 1, 1_999, 1, 3_999, 1]) {
      timers.advance(stepMs);
      await settle();
    }
    expect(opens).toEqual([0, 1_000, 3_000, 7_000]);
    expect(connection.state).toBe("ready");

    sockets[3]?.drop();
    timers.advance(1_000);
    await settle();
    expect(opens).toEqual([0, 1_000, 3_000, 7_000, 8_000]);
    expect(connection.state).toBe("ready");
    expect(states.filter((s) => s === "ready")).toHaveLength(3);

    await connection.close();
    expect(connection.state).toBe("closed");
    expect(timers.pending).toBe(0);
  });
});
