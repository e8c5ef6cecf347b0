import { createLogger, type Logger } from "../../core/logger";

/** A real Powertools logger whose printed records are kept instead of written to stdout. */
export interface CapturedLog {
  logger: Logger;
  /** Every record printed so far, as the JSON text the logger would have written. */
  lines: string[];
  /** The records parsed. */
  records(): Record<string, unknown>[];
}

/**
 * A DEBUG-level Powertools logger that prints into {@link CapturedLog.lines}: records go through
 * the logger's own formatting and `JSON.stringify`, so a value it cannot serialise (a payload
 * nested thousands of levels deep) fails here exactly as it would in production.
 */
export function captureLog(serviceName = "test"): CapturedLog {
  const logger = createLogger(serviceName, "DEBUG");
  const lines: string[] = [];
  const print = (line: unknown) => {
    lines.push(String(line));
  };
  // `console` is where Powertools prints (`Logger.printLog`); replacing it keeps the formatting.
  (logger as unknown as { console: Record<string, (line: unknown) => void> }).console = {
    trace: print,
    debug: print,
    info: print,
    log: print,
    warn: print,
    error: print,
  };
  return {
    logger,
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
