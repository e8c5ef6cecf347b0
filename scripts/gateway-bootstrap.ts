import { existsSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { runBootstrapCli } from "../core/gateway/cli";

/**
 * `npm run gateway:bootstrap -- --stage <stage>`: configures a freshly deployed model gateway
 * (see `core/gateway/cli.ts` for options). Progress goes to stderr, the report to stdout.
 */
async function main(): Promise<void> {
  // A developer's `.env` (see `.env.template`); variables already set in the shell win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  process.exitCode = await runBootstrapCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    clock: Date,
    sleep: (ms) => delay(ms),
  });
}

main().catch((error) => {
  console.error("gateway bootstrap crashed:", error);
  process.exit(1);
});
