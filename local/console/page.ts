import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Context } from "hono";

/**
 * The console page's files: its own (plain HTML, CSS and browser JavaScript, no build step)
 * and the two libraries it imports as ES modules, served from their npm packages: `marked`
 * (Markdown → HTML, https://marked.js.org) and DOMPurify (sanitises that HTML before it
 * reaches the DOM, https://github.com/cure53/DOMPurify).
 */
// marked's `exports` has only a default condition: its ES module (`lib/marked.esm.js`).
const FILES: Readonly<Record<string, { path: () => string; type: string }>> = {
  "index.html": { path: () => own("index.html"), type: "text/html; charset=utf-8" },
  "app.js": { path: () => own("app.js"), type: "text/javascript; charset=utf-8" },
  "app.css": { path: () => own("app.css"), type: "text/css; charset=utf-8" },
  "marked.js": {
    path: () => require.resolve("marked"),
    type: "text/javascript; charset=utf-8",
  },
  "purify.js": {
    path: () => besideMain("dompurify", "purify.es.mjs"),
    type: "text/javascript; charset=utf-8",
  },
};

/**
 * Scripts, styles and requests only from the console itself: the page never runs inline
 * script, and model text reaches the DOM only through DOMPurify.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const cache = new Map<string, string>();

const require = createRequire(import.meta.url);

/**
 * A file next to a package's main module: DOMPurify's `exports` map gives `require` its CommonJS
 * build and `import` the ES module beside it (`dist/purify.es.mjs`), which the browser needs.
 */
function besideMain(name: string, file: string): string {
  return join(dirname(require.resolve(name)), file);
}

function own(name: string): string {
  return join(import.meta.dirname, "public", name);
}

/** Answers with one of the console's files (read once, then kept), or 404. */
export async function servePage(c: Context, name: string): Promise<Response> {
  const file = FILES[name];
  if (!file) return c.json({ error: "not_found" }, 404);
  let body = cache.get(name);
  if (body === undefined) {
    body = await readFile(file.path(), "utf8");
    cache.set(name, body);
  }
  return c.body(body, 200, {
    "content-type": file.type,
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  });
}
