/**
 * The framework-free shapes every webhook (`core/platforms/*`, `core/kadi/ingress.ts`) takes
 * and returns through the pipeline, so the same code runs under Hono, the Lambda fast path and
 * tests.
 */

/** A webhook request as received: signatures are checked over `rawBody`, byte for byte. */
export interface RawRequest {
  rawBody: string;
  /** Header lookup, case-insensitive as in HTTP; `undefined` when absent. */
  headers: (name: string) => string | undefined;
}

/** An HTTP answer: status code and a JSON-serialisable body. */
export interface IngressResponse {
  status: number;
  body: unknown;
}
