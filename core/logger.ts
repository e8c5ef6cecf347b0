import { Logger } from "@aws-lambda-powertools/logger";
import type { LogLevel } from "./constants/logging";

/**
 * Structured JSON logger (Powertools for AWS Lambda Logger), one per container. Log records
 * must never carry secrets or raw request bodies; log ids and reasons instead.
 */
export function createLogger(serviceName: string, logLevel: LogLevel): Logger {
  return new Logger({ serviceName, logLevel });
}

export type { Logger };
