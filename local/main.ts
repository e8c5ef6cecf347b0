import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "../core/config";
import { createLogger } from "../core/logger";
import { startLocalStack } from "./stack";

/** `npm start`: the embedded local stack, stopped cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  // A developer's `.env` (see `.env.template`); variables already set in the shell win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger("local-stack", config.logLevel);
  const stack = await startLocalStack(config, { logger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping local stack", { signal });
    stack.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error("clean shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error) => {
  console.error("local stack failed to start:", error);
  process.exit(1);
});
