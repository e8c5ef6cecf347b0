/**
 * A load done once and shared: what a container builds lazily (the ingress's per-route pieces
 * in `core/compose/ingress.ts`, the ArcadeDB schema setup) without letting one failed build fail
 * it for the rest of its life.
 */

/**
 * Wraps `load` so that it runs on the first call and every later or concurrent call shares its
 * promise. A rejected load is dropped: that call (and any sharing it) rejects with its error,
 * and the next call runs `load` again.
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
