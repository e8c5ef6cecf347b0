/** Small helpers the local-stack benchmarks share. */

/**
 * Polls `read` every 2 ms until it yields something other than `undefined`.
 * @throws Error `timed out waiting for {what}` after `timeoutMs`.
 */
export async function until<T>(
  read: () => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The `p` quantile (0–1, nearest rank) of `samples`; `NaN` for none. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN
  );
}

/** The median (upper middle for an even count) of `samples`; `NaN` for none. */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
