import { existsSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import {
  createInterruptHandler,
  type InterruptSignal,
  runBootstrapCli,
} from "../core/ops/gateway/cli";

/**
 * `npm run gateway:bootstrap -- --stage <stage>`: configures a freshly deployed model gateway
 * (see `core/ops/gateway/cli.ts` for options). Progress goes to stderr, the report to stdout.
 * SIGINT/SIGTERM cancel the run, which undoes what it created; a second Ctrl-C quits at once.
 */
async function main(): Promise<void> {
  // A developer's `.env` (see `.env.template`); variables already set in the shell win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const controller = new AbortController();
  let pending: readonly string[] = [];
  const handle = createInterruptHandler({
    abort: (reason) => controller.abort(reason),
    pending: () => pending,
    err: (line) => console.error(line),
    exit: (code) => process.exit(code),
    now: () => Date.now(),
  });
  const onSignal = (signal: InterruptSignal) => {
    handle(signal);
    process.once(signal, onSignal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.exitCode = await runBootstrapCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    now: () => Date.now(),
    sleep: (ms, signal) => delay(ms, undefined, { signal }),
    signal: controller.signal,
    onPending: (items) => {
      pending = items;
    },
  });
}

main().catch((error) => {
  console.error("gateway bootstrap crashed:", error);
  process.exit(1);
});
