import { Resource } from "sst/resource";

/**
 * How SST-linked resources stand in for configuration variables (read by `loadConfig` in
 * `./config.ts`, which checks that every variable named here is one it declares).
 */

/**
 * SST-linked resources (https://sst.dev/docs/linking/) that stand in for a variable: the link
 * name given in `infra/`, the property SST exposes for it (`Dynamo` → `name`, `Queue` → `url`,
 * `Secret` → `value`) and the variable it supplies. On Lambda every one of these arrives through
 * linking, so no secret needs a plain environment variable there; locally the variables apply.
 */
export const LINKED_RESOURCES = {
  Memory: { property: "name", variable: "MEMORY_TABLE_NAME" },
  ChatQueue: { property: "url", variable: "CHAT_QUEUE_URL" },
  ArchiveQueue: { property: "url", variable: "ARCHIVE_QUEUE_URL" },
  AnthropicApiKey: { property: "value", variable: "ANTHROPIC_API_KEY" },
  ModelManagerApiKey: { property: "value", variable: "MODEL_MANAGER_API_KEY" },
  SlackSigningSecret: { property: "value", variable: "SLACK_SIGNING_SECRET" },
  SlackBotToken: { property: "value", variable: "SLACK_BOT_TOKEN" },
  DiscordPublicKey: { property: "value", variable: "DISCORD_PUBLIC_KEY" },
  DiscordBotToken: { property: "value", variable: "DISCORD_BOT_TOKEN" },
  ArcadedbPassword: { property: "value", variable: "ARCADEDB_PASSWORD" },
  KadiPrivateKey: { property: "value", variable: "KADI_PRIVATE_KEY" },
  KadiCallbackSecret: { property: "value", variable: "KADI_CALLBACK_SECRET" },
  GatewayAdminKey: { property: "value", variable: "GATEWAY_ADMIN_KEY" },
} as const satisfies Record<string, { property: "name" | "url" | "value"; variable: string }>;

/** Link name of an SST resource that {@link loadConfig} understands. */
export type LinkedResourceName = keyof typeof LINKED_RESOURCES;

/**
 * The resources SST links to this process: on Lambda the encrypted `resource.enc` bundled with
 * the function (`SST_KEY`, `SST_KEY_FILE`), under `sst dev`/`sst shell` the `SST_RESOURCE_<Name>`
 * variables. Read through SST's own reader (`sst/resource`, about 1.7 KB minified), so the
 * format stays the CLI's business; outside SST it yields nothing.
 */
export function sstLinkedResources(): Record<string, unknown> {
  const linked: Record<string, unknown> = {};
  for (const name of Object.keys(LINKED_RESOURCES)) {
    if (name in Resource) linked[name] = Reflect.get(Resource, name);
  }
  return linked;
}

/**
 * Variables supplied by linked resources (blank values skipped), and where each came from
 * (`sources`: variable → link name); `problems` names a linked resource without its property.
 */
export function linkedVariables(resources: Record<string, unknown>): {
  values: Record<string, string>;
  sources: Map<string, string>;
  problems: string[];
} {
  const values: Record<string, string> = {};
  const sources = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, { property, variable }] of Object.entries(LINKED_RESOURCES)) {
    const resource = resources[name];
    if (resource === undefined) continue;
    const value =
      typeof resource === "object" && resource !== null
        ? Reflect.get(resource, property)
        : undefined;
    if (typeof value !== "string") {
      problems.push(`${variable}: linked SST resource ${name} has no string "${property}"`);
      continue;
    }
    if (!value.trim()) continue;
    values[variable] = value;
    sources.set(variable, name);
  }
  return { values, sources, problems };
}
