import { builtinModules } from "node:module";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { deployedBuildOptions } from "../../infra/bundling";

// The ingress as `sst deploy` bundles it (infra/bundling.ts): the AWS SDK bundled in from its
// ES module builds, and a cold start that loads only what a Slack mention needs. Speed itself
// is measured by `npm run bench:ingress`, not here.

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

let metafile: Metafile;

beforeAll(async () => {
  const result = await build({
    ...deployedBuildOptions("functions/http.ts", "bench/out/bundle-test"),
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  metafile = result.metafile;
}, 60_000);

/** Source files in the output chunks that importing `bundle.mjs` loads (static imports). */
function loadedAtImport(): string[] {
  return loadedWith((output) => basename(output) === "bundle.mjs");
}

/**
 * Source files in the output chunks that loading the chunks `start` picks loads with them
 * (their static imports, transitively).
 */
function loadedWith(start: (output: string) => boolean): string[] {
  const outputs = metafile.outputs;
  const byName = new Map(Object.keys(outputs).map((path) => [basename(path), path]));
  const loaded = new Set<string>();
  const pending: (string | undefined)[] = Object.keys(outputs).filter(start);
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (loaded.has(path)) continue;
    loaded.add(path);
    for (const imported of outputs[path]?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) {
        pending.push(byName.get(basename(imported.path)));
      }
    }
  }
  return [...loaded].flatMap((path) => Object.keys(outputs[path]?.inputs ?? {}));
}

describe("the deployed ingress bundle", () => {
  it("bundles the AWS SDK from its ES module builds and leaves only Node built-ins external", () => {
    const inputs = Object.keys(metafile.inputs);
    const sdk = inputs.filter((path) => /node_modules\/@(aws-sdk|smithy)\//.test(path));
    expect(sdk.some((path) => path.includes("@aws-sdk/client-dynamodb/"))).toBe(true);
    expect(sdk.some((path) => path.includes("@aws-sdk/client-sqs/"))).toBe(true);
    expect(sdk.filter((path) => path.includes("/dist-cjs/"))).toEqual([]);
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    const external = Object.values(metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((imported) => imported.external && !builtins.has(imported.path))
      .map((imported) => imported.path);
    expect(external).toEqual([]);
  });

  it("loads at import only what a Slack mention needs: no Discord, KĀDI, memory or health code", () => {
    const loaded = loadedAtImport();
    expect(loaded.some((path) => path.endsWith("core/compose/ingress.ts"))).toBe(true);
    const notLoaded = [
      /core\/platforms\/discord\/(webhook|interactions|verify)\.ts$/,
      /core\/platforms\/slack\/webhook\.ts$/,
      // Approve / Deny clicks load the interactivity webhook and the approval store on the
      // first click only.
      /core\/platforms\/(slack\/interactions|discord\/components|approval-click)\.ts$/,
      /core\/agent\//,
      /core\/kadi\/(ingress|callback|events)\.ts$/,
      /core\/memory\/(long-term\/|conversations|forget|preferences)/,
      /core\/health-check\//,
      /node_modules\/(minisearch|discord-interactions)\//,
      /node_modules\/@aws-sdk\/(nested-clients|credential-provider-(ini|sso|process|web-identity))\//,
    ];
    for (const pattern of notLoaded) {
      expect(loaded.filter((path) => pattern.test(path))).toEqual([]);
    }
  });

  it("loads the assistant-thread setup on assistant_thread_started only, and never @slack/web-api", () => {
    const holds = (pattern: RegExp) => (output: string) =>
      Object.keys(metafile.outputs[output]?.inputs ?? {}).some((path) => pattern.test(path));
    const withWebhook = loadedWith(holds(/core\/platforms\/slack\/webhook\.ts$/));
    expect(withWebhook.some((path) => path.endsWith("core/platforms/slack/events.ts"))).toBe(true);
    const lazy = /core\/platforms\/slack\/assistant\.ts$/;
    expect(withWebhook.filter((path) => lazy.test(path))).toEqual([]);
    // …but it is in the bundle, in a chunk of its own.
    expect(Object.keys(metafile.inputs).some((path) => lazy.test(path))).toBe(true);
    // The worker's Web API client stays out of the ingress altogether (67 KB over its budget).
    const webApi = /node_modules\/@slack\/web-api\//;
    expect(Object.keys(metafile.inputs).filter((path) => webApi.test(path))).toEqual([]);
  });

  it("forgets without the embedded search engine, which only the worker and archiver search with", () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((path) => path.endsWith("core/compose/forget.ts"))).toBe(true);
    expect(inputs.filter((path) => /node_modules\/minisearch\//.test(path))).toEqual([]);
    expect(inputs.filter((path) => path.endsWith("core/memory/long-term/embedded.ts"))).toEqual([]);
  });
});
