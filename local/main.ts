import { createLogger } from "../core/logger";
import { loadCommandConfig } from "./command-config";
import { announceConsole } from "./console";
import { startLocalStack } from "./stack";

/** `npm start`: the embedded local stack, stopped cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadCommandConfig();
  const logger = createLogger("local-stack", config.logLevel);
  const stack = await startLocalStack(config, { logger });
  await announceConsole(stack.console, config.dataDir, logger);
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
