/** Log levels accepted by `LOG_LEVEL`: Powertools Logger's names
 * (https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/#log-levels). */
export const LOG_LEVELS = [
  "TRACE",
  "DEBUG",
  "INFO",
  "WARN",
  "ERROR",
  "SILENT",
  "CRITICAL",
] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** CloudWatch namespace of the agent's EMF metrics (health checks, token counts). */
export const METRICS_NAMESPACE = "ChatAgent";
