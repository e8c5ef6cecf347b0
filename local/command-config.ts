import { existsSync } from "node:fs";
import { type Config, ConfigError, loadConfig } from "../core/config";

/** Exit code of a command whose configuration is invalid (distinct from 1: the work failed). */
export const EXIT_BAD_CONFIG = 2;

/**
 * Configuration for a command run from a shell (`npm start`, `npm run memory:*`): loads a
 * developer's `.env` when present (variables already set in the shell win, see
 * `.env.template`), then validates with {@link loadConfig}. On a {@link ConfigError} it prints
 * every problem to stderr and exits with {@link EXIT_BAD_CONFIG}; other errors propagate.
 *
 * @param required - variable names the command cannot run without.
 */
export function loadCommandConfig(required: readonly string[] = []): Config {
  if (existsSync(".env")) process.loadEnvFile(".env");
  try {
    return loadConfig({ required });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(EXIT_BAD_CONFIG);
    }
    throw error;
  }
}
