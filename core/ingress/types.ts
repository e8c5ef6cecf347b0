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

/** An HTTP answer: status code, a JSON-serialisable body and any extra headers. */
export interface IngressResponse {
  status: number;
  body: unknown;
  /** Extra response headers, lower-case names (e.g. `retry-after` on a 503). */
  headers?: Readonly<Record<string, string>>;
}
