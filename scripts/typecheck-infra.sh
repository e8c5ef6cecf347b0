#!/usr/bin/env bash
# Type-checks sst.config.ts and infra/ against SST's own platform types, with no cloud
# credentials and no downloads from GitHub.
#
# `sst install` builds sst.config.ts, evaluates only its app() (no AWS or DigitalOcean call),
# extracts SST's platform (the component sources that .sst/platform/config.d.ts declares as
# the `sst`, `aws`, `digitalocean` and `$…` globals) from the CLI binary into .sst/platform,
# and installs the platform's npm dependencies plus the providers listed in `providers`
# (@pulumi/aws, @pulumi/digitalocean) into .sst/platform/node_modules with bun. The network it
# needs is the npm registry, the one `npm ci` uses (NPM_REGISTRY or .npmrc's registry override
# it): it resolves each provider name to a package there, then bun fetches ~300 MB (cached in
# ~/.bun). The digitalocean provider is fetched like every other platform dependency; the
# project's own @pulumi/digitalocean (same version) serves the vitest mocks, not this check.
#
#   SST_BUN_PATH               the `bun` npm package, instead of SST downloading bun
#   SST_SKIP_DEPENDENCY_CHECK  skip installing the Pulumi CLI, which only deploys use
#   SST_STAGE                  a fixed stage name, so nothing prompts or reads a personal stage
#   SST_TELEMETRY_DISABLED     no telemetry requests
#
# tsconfig.infra.json includes SST's platform .ts sources (skipLibCheck does not cover them), so
# it uses the options they compile under (`strict`, not the project's noUncheckedIndexedAccess,
# verbatimModuleSyntax or noImplicitOverride). infra/gateway.ts and core/constants/ also get
# the project's full options through their tests and `npx tsc --noEmit`. `@pulumi/*` resolves to .sst/platform's copies,
# as at deploy time, where SST leaves those imports external and loads them from there.
set -euo pipefail
cd "$(dirname "$0")/.."

export SST_BUN_PATH="$PWD/node_modules/.bin/bun"
export SST_SKIP_DEPENDENCY_CHECK=1
export SST_STAGE=ci
export SST_TELEMETRY_DISABLED=1

node_modules/.bin/sst install
node_modules/.bin/tsc -p tsconfig.infra.json
echo "typecheck:infra: sst.config.ts and infra/ match the types of SST $(cat .sst/platform/version)"
