import type { BuildOptions } from "esbuild";

/**
 * How SST bundles every function: its `nodejs` function arguments
 * (https://sst.dev/docs/component/aws/function#nodejs), which SST's CLI turns into one esbuild
 * build per function at `sst deploy`. Plain data with no SST globals, so the ingress benchmark
 * and tests build the functions the same way ({@link deployedBuildOptions}).
 *
 * - **The AWS SDK is bundled in**, not left to the Lambda runtime's copy: nothing here marks
 *   `@aws-sdk/*` external (`esbuild.external`) or installed (`install`). Loading the runtime's
 *   copy means resolving and compiling hundreds of small CommonJS files; bundled, only the
 *   modules the function uses are compiled, from a few tree-shaken chunks.
 *   `npm run bench:ingress` measured the ingress's import at 0.94–1.19× Bolt's with the SDK
 *   external and at 0.69–0.91× with it bundled (docs/benchmarks.md).
 * - **Module-first resolution** (`mainFields: ["module", "main"]`, SST's default for ESM,
 *   stated so a change of default cannot undo it): the SDK's and Smithy's `module` builds are
 *   ES modules, which esbuild tree-shakes; their `main` builds are CommonJS, which it cannot.
 * - **Code splitting**: every dynamic `import()` becomes its own chunk, loaded when it runs.
 *   The ingress loads each route's webhook, `/forget`'s long-term memory and the health-check
 *   records that way (`core/compose/ingress.ts`), and the SDK loads its credential providers
 *   that way, so a cold start reads and compiles only the chunks its first request needs (on
 *   Lambda the credentials come from the environment: SSO, STS and IMDS code is never read).
 *   Without splitting those imports cost more than they save: esbuild turns each dynamically
 *   imported module into a lazy wrapper inside the one file, keeping all its exports.
 * - **Minified**: SST's reference gives `true` as the default, but its CLI minifies only when
 *   the argument is set (`pkg/runtime/node/build.go` in https://github.com/anomalyco/sst).
 */
export interface NodejsBundling {
  format: "esm";
  minify: boolean;
  splitting: boolean;
  esbuild: { mainFields: string[] };
}

/** See {@link NodejsBundling}. */
export const NODEJS_BUNDLING: NodejsBundling = {
  format: "esm",
  minify: true,
  splitting: true,
  esbuild: { mainFields: ["module", "main"] },
};

/**
 * The banner SST's CLI puts at the top of each ESM output file, so that CommonJS code bundled
 * into ESM finds `require`, `__filename` and `__dirname` (from SST's `pkg/runtime/node/build.go`).
 */
const SST_ESM_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/**
 * The esbuild options of the build `sst deploy` runs for a function with {@link NODEJS_BUNDLING}
 * on `nodejs22.x` (SST 4's `pkg/runtime/node/build.go`): its fixed settings (platform node,
 * `keepNames`, target ES2023 for that runtime, `sharp` and `pg-native` always external, the ESM
 * banner, entry chunk `bundle.mjs`) plus ours. For the benchmark and the bundle test, which
 * need the deployed shape without deploying.
 *
 * @param entry - the handler's file, e.g. `functions/http.ts`.
 * @param outdir - where `bundle.mjs` (and, with splitting, its chunks) are written.
 */
export function deployedBuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: { bundle: entry },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: NODEJS_BUNDLING.format,
    target: "es2023",
    mainFields: NODEJS_BUNDLING.esbuild.mainFields,
    splitting: NODEJS_BUNDLING.splitting,
    minify: NODEJS_BUNDLING.minify,
    keepNames: true,
    external: ["sharp", "pg-native"],
    banner: { js: SST_ESM_BANNER },
  };
}
