import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import { GATEWAY_DIALECTS, type GatewayDialect } from "../core/constants/gateway";

/**
 * The OpenAI-compatible model gateway on a DigitalOcean droplet (docs/deployment.md, "6. The
 * model gateway on DigitalOcean"). Plain Pulumi (`@pulumi/pulumi`, `@pulumi/digitalocean`)
 * rather than SST's globals, so vitest can construct it under Pulumi's runtime mocks;
 * `sst.config.ts` creates it with the `digitalocean` provider SST installs.
 *
 * On the droplet, Docker Compose runs the gateway container behind Caddy, which terminates TLS
 * on 443 with a Let's Encrypt certificate obtained through the TLS-ALPN-01 challenge (RFC 8737),
 * the one ACME challenge answered on 443 itself, so port 80 stays closed.
 */

/** LiteLLM proxy image (https://docs.litellm.ai/docs/proxy/deploy), the default gateway. */
export const LITELLM_IMAGE = "ghcr.io/berriai/litellm:main-stable";

/** Caddy 2 (https://caddyserver.com/docs/running#docker-compose). */
export const CADDY_IMAGE = "caddy:2";

/** LiteLLM keeps virtual keys and models added through `/model/new` in PostgreSQL: both admin
 * routes the bootstrap calls need a database (https://docs.litellm.ai/docs/proxy/virtual_keys).
 * Major 17 keeps the data directory at `/var/lib/postgresql/data`, where the volume mounts. */
export const POSTGRES_IMAGE = "postgres:17";

/** Where cloud-init writes the Compose project on the droplet. */
export const GATEWAY_DIR = "/opt/gateway";

/** Settings of the gateway; `gatewaySettingsFromEnv` reads them at deploy time. */
export interface GatewaySettings {
  /** DigitalOcean region slug, e.g. `nyc3`. */
  region: string;
  /** Droplet size slug, e.g. `s-1vcpu-2gb` (LiteLLM with PostgreSQL wants 2 GB of RAM). */
  size: string;
  /** Droplet image slug; cloud-init installs Docker from the distribution's packages, so an
   * Ubuntu image (`ubuntu-24-04-x64`) is expected. */
  image: string;
  dialect: GatewayDialect;
  /** Gateway container image. */
  containerImage: string;
  /** Port the gateway container listens on inside the Compose network. */
  containerPort: number;
  /** Variable through which the container receives the admin key. */
  adminKeyVariable: string;
  /** Variable through which the container receives the upstream provider key: the name the
   * bootstrap's models refer to (`--upstream-key-env`, default `OPENAI_API_KEY`). */
  upstreamKeyVariable: string;
  /** DNS name with an A record on the reserved IP; unset uses `<ip-with-dashes>.sslip.io`. */
  domain?: string;
  /** Contact address given to Let's Encrypt. */
  acmeEmail?: string;
  /** CIDR allowed to reach SSH (22); unset closes SSH entirely. */
  sshCidr?: string;
  /** DigitalOcean SSH key ids or fingerprints installed for `root`. */
  sshKeys: string[];
}

/** Thrown for a setting or a value the gateway cannot be built with; `problems` names each. */
export class GatewayConfigError extends Error {
  override readonly name = "GatewayConfigError";
  constructor(readonly problems: string[]) {
    super(`Invalid gateway configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const IMAGE_REF = /^[a-z0-9][a-z0-9._/:@-]*$/i;
const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;
const EMAIL = /^[^\s@{}"]+@[^\s@{}"]+\.[^\s@{}"]+$/;
const CIDR = /^(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-f:]+\/\d{1,3}$/i;

const blankAsUnset = z
  .string()
  .optional()
  .transform((v) => v?.trim() || undefined);

const settingsEnvSchema = z.object({
  GATEWAY_REGION: blankAsUnset.transform((v) => v ?? "nyc3"),
  GATEWAY_SIZE: blankAsUnset.transform((v) => v ?? "s-1vcpu-2gb"),
  GATEWAY_DROPLET_IMAGE: blankAsUnset.transform((v) => v ?? "ubuntu-24-04-x64"),
  GATEWAY_DIALECT: blankAsUnset
    .transform((v) => v ?? "litellm")
    .pipe(z.enum(GATEWAY_DIALECTS, { error: `must be ${GATEWAY_DIALECTS.join(" or ")}` })),
  GATEWAY_IMAGE: blankAsUnset.pipe(
    z.string().regex(IMAGE_REF, "must be a container image reference").optional(),
  ),
  GATEWAY_PORT: blankAsUnset.pipe(
    z
      .string()
      .regex(/^\d{1,5}$/, "must be a port number")
      .transform(Number)
      .pipe(z.number().min(1).max(65535, "must be a port number"))
      .optional(),
  ),
  GATEWAY_ADMIN_KEY_VARIABLE: blankAsUnset.pipe(
    z.string().regex(VARIABLE_NAME, "must be an environment variable name").optional(),
  ),
  GATEWAY_UPSTREAM_KEY_ENV: blankAsUnset.pipe(
    z.string().regex(VARIABLE_NAME, "must be an environment variable name").optional(),
  ),
  GATEWAY_DOMAIN: blankAsUnset.pipe(z.string().regex(DNS_NAME, "must be a DNS name").optional()),
  GATEWAY_ACME_EMAIL: blankAsUnset.pipe(
    z.string().regex(EMAIL, "must be an email address").optional(),
  ),
  GATEWAY_SSH_CIDR: blankAsUnset.pipe(
    z.string().regex(CIDR, "must be a CIDR such as 203.0.113.7/32").optional(),
  ),
  GATEWAY_SSH_KEYS: blankAsUnset.transform((v) =>
    (v ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean),
  ),
});

/**
 * Reads the gateway's settings from the deploying shell. Defaults: `nyc3`, `s-1vcpu-2gb`,
 * `ubuntu-24-04-x64`, LiteLLM ({@link LITELLM_IMAGE} on port 4000, admin key as
 * `LITELLM_MASTER_KEY`). The KĀDI model manager has no public image, so with
 * `GATEWAY_DIALECT=model-manager` the image, port and admin-key variable must be given.
 *
 * @returns `undefined` when `DIGITALOCEAN_TOKEN` is unset: the stage has no gateway at all.
 * @throws {GatewayConfigError} naming every malformed or missing variable.
 */
export function gatewaySettingsFromEnv(
  env: Record<string, string | undefined>,
): GatewaySettings | undefined {
  if (!env.DIGITALOCEAN_TOKEN?.trim()) return undefined;
  const parsed = settingsEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new GatewayConfigError(
      parsed.error.issues.map((i) => `${String(i.path[0] ?? "environment")}: ${i.message}`),
    );
  }
  const e = parsed.data;
  if (e.GATEWAY_DIALECT === "model-manager") {
    const missing = (["GATEWAY_IMAGE", "GATEWAY_PORT", "GATEWAY_ADMIN_KEY_VARIABLE"] as const)
      .filter((name) => e[name] === undefined)
      .map((name) => `${name}: is required with GATEWAY_DIALECT=model-manager`);
    if (missing.length > 0) throw new GatewayConfigError(missing);
  }
  // Only LiteLLM reaches the defaults: the model manager's three were required above.
  return {
    region: e.GATEWAY_REGION,
    size: e.GATEWAY_SIZE,
    image: e.GATEWAY_DROPLET_IMAGE,
    dialect: e.GATEWAY_DIALECT,
    containerImage: e.GATEWAY_IMAGE ?? LITELLM_IMAGE,
    containerPort: e.GATEWAY_PORT ?? 4000,
    adminKeyVariable: e.GATEWAY_ADMIN_KEY_VARIABLE ?? "LITELLM_MASTER_KEY",
    upstreamKeyVariable: e.GATEWAY_UPSTREAM_KEY_ENV ?? "OPENAI_API_KEY",
    domain: e.GATEWAY_DOMAIN,
    acmeEmail: e.GATEWAY_ACME_EMAIL,
    sshCidr: e.GATEWAY_SSH_CIDR,
    sshKeys: e.GATEWAY_SSH_KEYS,
  };
}

/**
 * The gateway's public DNS name: the configured domain, else the sslip.io name that resolves
 * to the reserved IP (`203.0.113.7` → `203-0-113-7.sslip.io`), so Let's Encrypt can issue a
 * certificate without any DNS set-up.
 */
export function gatewayHostname(ipAddress: string, domain?: string): string {
  return domain ?? `${ipAddress.replaceAll(".", "-")}.sslip.io`;
}

/** What {@link gatewayCloudInit} renders. */
export interface CloudInitSpec {
  hostname: string;
  dialect: GatewayDialect;
  containerImage: string;
  containerPort: number;
  adminKeyVariable: string;
  /** The admin key itself; written only to a root-only env file, see {@link gatewayCloudInit}. */
  adminKey: string;
  /** The upstream provider key and its variable, written beside the admin key; omitted when
   * the gateway reaches its upstream without one. */
  upstreamKey?: { variable: string; value: string };
  acmeEmail?: string;
}

/** A value that becomes one line of an env file. No whitespace, quotes, `$`, `#` or `\\`:
 * Compose would interpolate or strip those, so the container would see another key. */
const ENV_FILE_VALUE = /^[A-Za-z0-9_.~+/=:@-]+$/;
const ENV_FILE_CHARACTERS = "letters, digits and _ . ~ + / = : @ -";

function validateSpec(spec: CloudInitSpec): void {
  const problems: string[] = [];
  if (!DNS_NAME.test(spec.hostname)) problems.push("hostname: must be a DNS name");
  if (!IMAGE_REF.test(spec.containerImage)) {
    problems.push("containerImage: must be a container image reference");
  }
  if (!Number.isInteger(spec.containerPort) || spec.containerPort < 1) {
    problems.push("containerPort: must be a port number");
  }
  if (!VARIABLE_NAME.test(spec.adminKeyVariable)) {
    problems.push("adminKeyVariable: must be an environment variable name");
  }
  if (spec.acmeEmail !== undefined && !EMAIL.test(spec.acmeEmail)) {
    problems.push("acmeEmail: must be an email address");
  }
  if (!ENV_FILE_VALUE.test(spec.adminKey) || spec.adminKey.length < 16) {
    problems.push(
      `GatewayAdminKey: must be at least 16 characters of ${ENV_FILE_CHARACTERS} (set it with \`npx sst secret set GatewayAdminKey\`)`,
    );
  } else if (spec.dialect === "litellm" && !spec.adminKey.startsWith("sk-")) {
    problems.push("GatewayAdminKey: LiteLLM requires the master key to start with sk-");
  }
  if (spec.upstreamKey) {
    if (!VARIABLE_NAME.test(spec.upstreamKey.variable)) {
      problems.push("upstreamKey.variable: must be an environment variable name");
    }
    if (!ENV_FILE_VALUE.test(spec.upstreamKey.value)) {
      problems.push(`GatewayUpstreamKey: must be ${ENV_FILE_CHARACTERS}`);
    }
  }
  if (problems.length > 0) throw new GatewayConfigError(problems);
}

function caddyfile(spec: CloudInitSpec): string {
  const email = spec.acmeEmail ? `\t\t\temail ${spec.acmeEmail}\n` : "";
  return [
    `${spec.hostname} {`,
    "\ttls {",
    "\t\tissuer acme {",
    `${email}\t\t\tdisable_http_challenge`,
    "\t\t}",
    "\t}",
    `\treverse_proxy gateway:${spec.containerPort}`,
    "}",
    "",
  ].join("\n");
}

/** A Compose interpolation (`${NAME}`), filled from the project's `.env`, which cloud-init
 * generates on the droplet at first boot. */
function fromDotEnv(name: string): string {
  return `\${${name}}`;
}

/** Compose file as JSON, which is valid YAML and needs no YAML serializer. */
function composeFile(spec: CloudInitSpec): string {
  const restart = "unless-stopped";
  const litellm = spec.dialect === "litellm";
  const services: Record<string, unknown> = {
    gateway: {
      image: spec.containerImage,
      restart,
      env_file: ["gateway.env"],
      ...(litellm
        ? {
            command: ["--port", String(spec.containerPort)],
            environment: {
              DATABASE_URL: `postgresql://litellm:${fromDotEnv("POSTGRES_PASSWORD")}@db:5432/litellm`,
              STORE_MODEL_IN_DB: "True",
              LITELLM_SALT_KEY: fromDotEnv("LITELLM_SALT_KEY"),
            },
            depends_on: { db: { condition: "service_healthy" } },
          }
        : {}),
    },
    ...(litellm
      ? {
          db: {
            image: POSTGRES_IMAGE,
            restart,
            environment: {
              POSTGRES_DB: "litellm",
              POSTGRES_USER: "litellm",
              POSTGRES_PASSWORD: fromDotEnv("POSTGRES_PASSWORD"),
            },
            volumes: ["db-data:/var/lib/postgresql/data"],
            healthcheck: {
              test: ["CMD-SHELL", "pg_isready -U litellm -d litellm"],
              interval: "5s",
              timeout: "5s",
              retries: 30,
            },
          },
        }
      : {}),
    caddy: {
      image: CADDY_IMAGE,
      restart,
      // Only 443/tcp is published; the gateway and the database are reachable only inside
      // the Compose network.
      ports: ["443:443"],
      volumes: ["./Caddyfile:/etc/caddy/Caddyfile:ro", "caddy-data:/data", "caddy-config:/config"],
      depends_on: ["gateway"],
    },
  };
  const volumes = litellm
    ? { "db-data": {}, "caddy-data": {}, "caddy-config": {} }
    : { "caddy-data": {}, "caddy-config": {} };
  return `${JSON.stringify({ services, volumes }, null, 2)}\n`;
}

function envFile(spec: CloudInitSpec): string {
  const lines = [`${spec.adminKeyVariable}=${spec.adminKey}`];
  if (spec.upstreamKey) lines.push(`${spec.upstreamKey.variable}=${spec.upstreamKey.value}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The droplet's cloud-init user data (https://cloudinit.readthedocs.io/en/latest/reference/modules.html):
 * installs Docker and the Compose plugin from Ubuntu's archive, writes the Compose project to
 * {@link GATEWAY_DIR} (gateway, PostgreSQL for LiteLLM, Caddy) and starts it.
 *
 * The admin key (and the upstream provider key) are written once, into `gateway.env` with mode
 * 0600, and handed to the container through `env_file`: it is never on a command line, in
 * `runcmd` or in a file others can read, so it shows up in no process list or cloud-init log. (It remains in the droplet's user data,
 * which only root and the metadata service see; the Pulumi input is marked secret.) The
 * PostgreSQL password and LiteLLM's salt key are generated on the droplet at first boot and
 * never leave it.
 *
 * @returns `#cloud-config` followed by the configuration as JSON (valid YAML).
 * @throws {GatewayConfigError} for a malformed hostname, image, port, variable name, email or
 *   admin key (LiteLLM requires `sk-…`); messages never contain the key.
 */
export function gatewayCloudInit(spec: CloudInitSpec): string {
  validateSpec(spec);
  const litellm = spec.dialect === "litellm";
  const generateEnv = litellm
    ? `test -s ${GATEWAY_DIR}/.env || printf 'POSTGRES_PASSWORD=%s\\nLITELLM_SALT_KEY=sk-%s\\n' "$(openssl rand -hex 24)" "$(openssl rand -hex 24)" > ${GATEWAY_DIR}/.env`
    : `touch ${GATEWAY_DIR}/.env`;
  const config = {
    package_update: true,
    packages: ["docker.io", "docker-compose-v2"],
    write_files: [
      {
        path: `${GATEWAY_DIR}/compose.yaml`,
        permissions: "0644",
        owner: "root:root",
        content: composeFile(spec),
      },
      {
        path: `${GATEWAY_DIR}/Caddyfile`,
        permissions: "0644",
        owner: "root:root",
        content: caddyfile(spec),
      },
      {
        path: `${GATEWAY_DIR}/gateway.env`,
        permissions: "0600",
        owner: "root:root",
        content: envFile(spec),
      },
    ],
    runcmd: [
      ["sh", "-c", `umask 077 && ${generateEnv}`],
      ["systemctl", "enable", "--now", "docker"],
      ["docker", "compose", "--file", `${GATEWAY_DIR}/compose.yaml`, "up", "--detach"],
    ],
  };
  return `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
}

/** Inbound rules: HTTPS from anywhere, SSH only from `sshCidr` (none when unset). */
export function gatewayInboundRules(
  sshCidr?: string,
): digitalocean.types.input.FirewallInboundRule[] {
  return [
    { protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0", "::/0"] },
    ...(sshCidr ? [{ protocol: "tcp", portRange: "22", sourceAddresses: [sshCidr] }] : []),
  ];
}

/** A DigitalOcean cloud firewall with no outbound rule drops all egress; the droplet needs
 * DNS, apt, image pulls, Let's Encrypt and the upstream model APIs. */
const OUTBOUND_RULES: digitalocean.types.input.FirewallOutboundRule[] = [
  { protocol: "tcp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
  { protocol: "udp", portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] },
  { protocol: "icmp", destinationAddresses: ["0.0.0.0/0", "::/0"] },
];

/** Arguments of {@link ModelGateway}. */
export interface ModelGatewayArgs extends GatewaySettings {
  /** The admin key (`GatewayAdminKey` secret): LiteLLM's master key, or the model manager's. */
  adminKey: pulumi.Input<string>;
  /** The upstream provider key (`GatewayUpstreamKey` secret), given to the container as
   * `upstreamKeyVariable`; blank or absent gives it none. */
  upstreamKey?: pulumi.Input<string>;
  /** Prefix of the DigitalOcean resource names, e.g. `kadi-chat-agent-production`. */
  namePrefix: string;
}

/**
 * The gateway: a reserved IP, a droplet whose cloud-init runs the gateway behind Caddy, the
 * reserved IP's assignment to it and a cloud firewall. The reserved IP is created first, so the
 * hostname (and the certificate) survive a droplet replacement; changing the user data (for
 * example rotating the admin key) replaces the droplet, since DigitalOcean cannot change it.
 */
export class ModelGateway extends pulumi.ComponentResource {
  /** `https://{hostname}`, without a trailing slash (`GATEWAY_URL`). */
  readonly url: pulumi.Output<string>;
  readonly hostname: pulumi.Output<string>;
  readonly ipAddress: pulumi.Output<string>;
  readonly droplet: digitalocean.Droplet;
  readonly reservedIp: digitalocean.ReservedIp;
  readonly ipAssignment: digitalocean.ReservedIpAssignment;
  readonly firewall: digitalocean.Firewall;

  constructor(name: string, args: ModelGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kadi:gateway:ModelGateway", name, {}, opts);
    const parent = { parent: this };

    this.reservedIp = new digitalocean.ReservedIp(`${name}Ip`, { region: args.region }, parent);
    this.ipAddress = this.reservedIp.ipAddress;
    this.hostname = this.ipAddress.apply((ip) => gatewayHostname(ip, args.domain));

    const userData = pulumi.secret(
      pulumi
        .all([this.hostname, args.adminKey, args.upstreamKey])
        .apply(([hostname, adminKey, upstreamKey]) =>
          gatewayCloudInit({
            hostname,
            dialect: args.dialect,
            containerImage: args.containerImage,
            containerPort: args.containerPort,
            adminKeyVariable: args.adminKeyVariable,
            adminKey: adminKey.trim(),
            ...(upstreamKey?.trim()
              ? { upstreamKey: { variable: args.upstreamKeyVariable, value: upstreamKey.trim() } }
              : {}),
            ...(args.acmeEmail ? { acmeEmail: args.acmeEmail } : {}),
          }),
        ),
    );

    this.droplet = new digitalocean.Droplet(
      `${name}Droplet`,
      {
        name: `${args.namePrefix}-gateway`,
        region: args.region,
        size: args.size,
        image: args.image,
        userData,
        monitoring: true,
        sshKeys: args.sshKeys,
        tags: [args.namePrefix, "model-gateway"],
      },
      parent,
    );
    const dropletId = this.droplet.id.apply((id) => Number(id));

    // Replacing the droplet replaces the assignment; deleting the old one first keeps the
    // unassign from landing after the new assign.
    this.ipAssignment = new digitalocean.ReservedIpAssignment(
      `${name}IpAssignment`,
      { ipAddress: this.ipAddress, dropletId },
      { ...parent, deleteBeforeReplace: true },
    );

    this.firewall = new digitalocean.Firewall(
      `${name}Firewall`,
      {
        name: `${args.namePrefix}-gateway`,
        dropletIds: [dropletId],
        inboundRules: gatewayInboundRules(args.sshCidr),
        outboundRules: OUTBOUND_RULES,
      },
      parent,
    );

    this.url = pulumi.interpolate`https://${this.hostname}`;
    this.registerOutputs({ url: this.url, hostname: this.hostname, ipAddress: this.ipAddress });
  }
}
