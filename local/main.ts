import { createLogger } from "../core/logger";
import { loadCommandConfig } from "./command-config";
import { announceConsole } from "./console";
import { PortInUseError } from "./services";
import { startLocalStack } from "./stack";

/** `npm start`: the embedded local stack, stopped cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadCommandConfig();
  // The AWS SDK's notice that its 2027 releases need Node 22 (its documented switch, read when
  // a client is built: https://github.com/aws/aws-sdk-js-v3/issues/7983). Only this process's
  // clients; the deployed functions run on nodejs22.x (infra/environment.ts), where it never shows.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const logger = createLogger("local-stack", config.logLevel);
  const stack = await startLocalStack(config, { logger });
  await announceConsole(stack.console, config.dataDir, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping local stack", { signal });
    const began = Date.now();
    stack.stop().then(
      (drained) => {
        logger.info("local stack stopped", { signal, ...drained, durationMs: Date.now() - began });
        process.exit(0);
      },
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
  // A taken port is the whole story; its listen error would only repeat it.
  if (error instanceof PortInUseError)
    console.error(`local stack failed to start: ${error.message}`);
  else console.error("local stack failed to start:", error);
  process.exit(1);
});
