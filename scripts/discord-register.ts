import { existsSync } from "node:fs";
import { runRegisterCli } from "../core/ops/discord-register";

/**
 * `npm run discord:register [-- --guild <id>]`: registers the agent's slash commands with
 * Discord (see `core/ops/discord-register.ts`). The report goes to stdout, errors to stderr;
 * exits 1 on failure.
 */
async function main(): Promise<void> {
  // A developer's `.env` (see `.env.template`); variables already set in the shell win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  process.exitCode = await runRegisterCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}

main().catch((error) => {
  console.error("discord:register crashed:", error);
  process.exit(1);
});
