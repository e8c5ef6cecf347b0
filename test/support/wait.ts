/**
 * Polls `probe` every 50 ms until it yields something other than `undefined`, and returns it.
 * For end-to-end tests that wait on work done by the local stack's pollers.
 * @param timeoutMs - give up after this long, ms (default 20 000).
 * @throws Error `timed out waiting` when the deadline passes first.
 */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
