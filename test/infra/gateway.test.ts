import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type * as Gateway from "../../infra/gateway";

/** Resources the mocked engine was asked to create, by Pulumi type token. */
const created: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
const RESERVED_IP = "203.0.113.10";
const DROPLET_ID = "424242";

let gateway: typeof Gateway;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        created.push({ type: args.type, name: args.name, inputs: args.inputs });
        const computed: Record<string, unknown> =
          args.type === "digitalocean:index/reservedIp:ReservedIp"
            ? { ipAddress: RESERVED_IP, urn: `do:reserved_ip:${RESERVED_IP}` }
            : args.type === "digitalocean:index/droplet:Droplet"
              ? { ipv4Address: "198.51.100.20", urn: `do:droplet:${DROPLET_ID}` }
              : {};
        const id =
          args.type === "digitalocean:index/droplet:Droplet" ? DROPLET_ID : `${args.name}-id`;
        return { id, state: { ...args.inputs, ...computed } };
      },
      call: (args) => args.inputs,
    },
    "kadi-chat-agent",
    "test",
    false,
  );
  gateway = await import("../../infra/gateway");
});

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

function inputsOf(type: string, componentName: string): Record<string, unknown> {
  const found = created.filter((r) => r.type === type && r.name.startsWith(componentName));
  expect(found, `${type} of ${componentName}`).toHaveLength(1);
  return found[0]?.inputs ?? {};
}

/**
 * The plain value of an input the engine received as a Pulumi secret (kept encrypted in the
 * state); fails when the input arrived in the clear.
 */
function secretValue(input: unknown): string {
  expect(input).toMatchObject({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig });
  return (input as { value: string }).value;
}

/** The cloud-config body (JSON after the `#cloud-config` line). */
interface CloudConfig {
  packages: string[];
  write_files: { path: string; permissions: string; content: string }[];
  runcmd: string[][];
}

function parseCloudInit(userData: string): CloudConfig {
  const [header, ...rest] = userData.split("\n");
  expect(header).toBe("#cloud-config");
  return JSON.parse(rest.join("\n")) as CloudConfig;
}

function file(config: CloudConfig, name: string) {
  const found = config.write_files.find((f) => f.path === `/opt/gateway/${name}`);
  expect(found, name).toBeDefined();
  return found as CloudConfig["write_files"][number];
}

const ADMIN_KEY = "sk-admin-0123456789abcdef";
const baseSettings = (): Gateway.GatewaySettings => ({
  region: "ams3",
  size: "s-2vcpu-4gb",
  image: "ubuntu-24-04-x64",
  dialect: "litellm",
  containerImage: "ghcr.io/berriai/litellm:main-stable",
  containerPort: 4000,
  adminKeyVariable: "LITELLM_MASTER_KEY",
  upstreamKeyVariable: "OPENAI_API_KEY",
  sshKeys: ["ab:cd:ef"],
});

describe("gatewaySettingsFromEnv", () => {
  it("skips the gateway entirely without a DigitalOcean token", () => {
    expect(gateway.gatewaySettingsFromEnv({ GATEWAY_REGION: "fra1" })).toBeUndefined();
    expect(gateway.gatewaySettingsFromEnv({ DIGITALOCEAN_TOKEN: "  " })).toBeUndefined();
  });

  it("defaults to LiteLLM on an Ubuntu droplet in nyc3, SSH closed", () => {
    expect(gateway.gatewaySettingsFromEnv({ DIGITALOCEAN_TOKEN: "dop_v1_x" })).toEqual({
      region: "nyc3",
      size: "s-1vcpu-2gb",
      image: "ubuntu-24-04-x64",
      dialect: "litellm",
      containerImage: gateway.LITELLM_IMAGE,
      containerPort: 4000,
      adminKeyVariable: "LITELLM_MASTER_KEY",
      upstreamKeyVariable: "OPENAI_API_KEY",
      domain: undefined,
      acmeEmail: undefined,
      sshCidr: undefined,
      sshKeys: [],
    });
  });

  it("reads every setting and names each malformed or missing one", () => {
    const settings = gateway.gatewaySettingsFromEnv({
      DIGITALOCEAN_TOKEN: "dop_v1_x",
      GATEWAY_REGION: "fra1",
      GATEWAY_SIZE: "s-2vcpu-4gb",
      GATEWAY_DOMAIN: "llm.example.org",
      GATEWAY_ACME_EMAIL: "ops@example.org",
      GATEWAY_SSH_CIDR: "198.51.100.7/32",
      GATEWAY_SSH_KEYS: "12345, ab:cd",
      GATEWAY_UPSTREAM_KEY_ENV: "GROQ_API_KEY",
    });
    expect(settings).toMatchObject({
      region: "fra1",
      size: "s-2vcpu-4gb",
      domain: "llm.example.org",
      acmeEmail: "ops@example.org",
      sshCidr: "198.51.100.7/32",
      sshKeys: ["12345", "ab:cd"],
      upstreamKeyVariable: "GROQ_API_KEY",
    });

    expect(() =>
      gateway.gatewaySettingsFromEnv({
        DIGITALOCEAN_TOKEN: "dop_v1_x",
        GATEWAY_DOMAIN: "evil.example.org {\n}",
        GATEWAY_SSH_CIDR: "anywhere",
        GATEWAY_PORT: "70000",
      }),
    ).toThrowError(
      expect.objectContaining({
        problems: expect.arrayContaining([
          "GATEWAY_DOMAIN: must be a DNS name",
          "GATEWAY_PORT: must be a port number",
          "GATEWAY_SSH_CIDR: must be a CIDR such as 203.0.113.7/32",
        ]),
      }),
    );
    expect(() =>
      gateway.gatewaySettingsFromEnv({
        DIGITALOCEAN_TOKEN: "dop_v1_x",
        GATEWAY_DIALECT: "model-manager",
      }),
    ).toThrowError(/GATEWAY_IMAGE[\s\S]*GATEWAY_PORT[\s\S]*GATEWAY_ADMIN_KEY_VARIABLE/);
  });
});

describe("gatewayCloudInit", () => {
  const spec = (over: Partial<Gateway.CloudInitSpec> = {}): Gateway.CloudInitSpec => ({
    hostname: "203-0-113-10.sslip.io",
    dialect: "litellm",
    containerImage: gateway.LITELLM_IMAGE,
    containerPort: 4000,
    adminKeyVariable: "LITELLM_MASTER_KEY",
    adminKey: ADMIN_KEY,
    ...over,
  });

  it("installs Docker and Compose and starts the project", () => {
    const config = parseCloudInit(gateway.gatewayCloudInit(spec()));
    expect(config.packages).toEqual(["docker.io", "docker-compose-v2"]);
    expect(config.runcmd).toContainEqual(["systemctl", "enable", "--now", "docker"]);
    expect(config.runcmd.at(-1)).toEqual([
      "docker",
      "compose",
      "--file",
      "/opt/gateway/compose.yaml",
      "up",
      "--detach",
    ]);
  });

  it("runs LiteLLM with PostgreSQL behind Caddy, publishing only 443", () => {
    const config = parseCloudInit(gateway.gatewayCloudInit(spec()));
    const compose = JSON.parse(file(config, "compose.yaml").content) as {
      services: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(["caddy", "db", "gateway"]);
    expect(compose.services.gateway).toMatchObject({
      image: "ghcr.io/berriai/litellm:main-stable",
      env_file: ["gateway.env"],
      command: ["--port", "4000"],
      environment: {
        // A Compose interpolation, filled from the .env generated on the droplet.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: literal Compose syntax
        DATABASE_URL: "postgresql://litellm:${POSTGRES_PASSWORD}@db:5432/litellm",
        STORE_MODEL_IN_DB: "True",
      },
    });
    expect(compose.services.db?.image).toBe(gateway.POSTGRES_IMAGE);
    const published = Object.values(compose.services).flatMap((s) => (s.ports as string[]) ?? []);
    expect(published).toEqual(["443:443"]);
    // The database password and salt key are generated on the droplet, never in user data.
    expect(config.runcmd[0]?.join(" ")).toContain("openssl rand -hex 24");
  });

  it("makes Caddy obtain the certificate over TLS-ALPN-01 on 443 and proxy to the gateway", () => {
    const withEmail = parseCloudInit(
      gateway.gatewayCloudInit(spec({ hostname: "llm.example.org", acmeEmail: "ops@example.org" })),
    );
    const caddyfile = file(withEmail, "Caddyfile").content;
    expect(caddyfile.startsWith("llm.example.org {\n")).toBe(true);
    expect(caddyfile).toMatch(
      /issuer acme \{\s+email ops@example\.org\s+disable_http_challenge\s+\}/,
    );
    expect(caddyfile).toContain("reverse_proxy gateway:4000");
  });

  it("writes the keys once, to a root-only env file, never into commands or configs", () => {
    const upstream = "sk-proj-upstream-0123456789";
    const userData = gateway.gatewayCloudInit(
      spec({ upstreamKey: { variable: "OPENAI_API_KEY", value: upstream } }),
    );
    expect(userData.split(ADMIN_KEY)).toHaveLength(2);
    expect(userData.split(upstream)).toHaveLength(2);
    const config = parseCloudInit(userData);
    const envFile = file(config, "gateway.env");
    expect(envFile.permissions).toBe("0600");
    expect(envFile.content).toBe(`LITELLM_MASTER_KEY=${ADMIN_KEY}\nOPENAI_API_KEY=${upstream}\n`);
    for (const key of [ADMIN_KEY, upstream]) {
      expect(JSON.stringify(config.runcmd)).not.toContain(key);
      expect(file(config, "compose.yaml").content).not.toContain(key);
      expect(file(config, "Caddyfile").content).not.toContain(key);
    }
  });

  it("rejects an unusable admin key or hostname without echoing the key", () => {
    const noPrefix = "admin-0123456789abcdef";
    let error: unknown;
    try {
      gateway.gatewayCloudInit(spec({ adminKey: noPrefix }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(gateway.GatewayConfigError);
    expect((error as Error).message).toContain("LiteLLM requires the master key to start with sk-");
    expect((error as Error).message).not.toContain(noPrefix);
    expect(() => gateway.gatewayCloudInit(spec({ adminKey: "" }))).toThrowError(
      /GatewayAdminKey: must be at least 16/,
    );
    for (const adminKey of ["sk-has a space-in-it", "sk-0123456789$HOME", "sk-0123456789\n#x"]) {
      expect(() => gateway.gatewayCloudInit(spec({ adminKey }))).toThrowError(
        gateway.GatewayConfigError,
      );
    }
    expect(() =>
      gateway.gatewayCloudInit(spec({ hostname: "x.example.org {\n}\n:80 {" })),
    ).toThrowError(/hostname: must be a DNS name/);
  });

  it("runs a model-manager image without a database, with its own port and key variable", () => {
    const config = parseCloudInit(
      gateway.gatewayCloudInit(
        spec({
          dialect: "model-manager",
          containerImage: "registry.example.org/kadi/model-manager:1.4",
          containerPort: 8080,
          adminKeyVariable: "ADMIN_API_KEY",
          adminKey: "mm-admin-0123456789abcdef",
        }),
      ),
    );
    const compose = JSON.parse(file(config, "compose.yaml").content) as {
      services: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(["caddy", "gateway"]);
    expect(compose.services.gateway?.image).toBe("registry.example.org/kadi/model-manager:1.4");
    expect(file(config, "gateway.env").content).toBe("ADMIN_API_KEY=mm-admin-0123456789abcdef\n");
    expect(file(config, "Caddyfile").content).toContain("reverse_proxy gateway:8080");
  });
});

describe("ModelGateway under Pulumi mocks", () => {
  it("builds the droplet from the settings with cloud-init for the reserved IP's sslip.io name", async () => {
    const gw = new gateway.ModelGateway("GwA", {
      ...baseSettings(),
      adminKey: pulumi.secret(ADMIN_KEY),
      upstreamKey: pulumi.secret("sk-proj-upstream-0123456789\n"),
      namePrefix: "kadi-chat-agent-test",
    });
    expect(await resolved(gw.url)).toBe("https://203-0-113-10.sslip.io");
    expect(await resolved(gw.ipAddress)).toBe(RESERVED_IP);
    await resolved(gw.droplet.id);

    const droplet = inputsOf("digitalocean:index/droplet:Droplet", "GwA");
    expect(droplet).toMatchObject({
      name: "kadi-chat-agent-test-gateway",
      region: "ams3",
      size: "s-2vcpu-4gb",
      image: "ubuntu-24-04-x64",
      monitoring: true,
      sshKeys: ["ab:cd:ef"],
    });
    const config = parseCloudInit(secretValue(droplet.userData));
    expect(file(config, "Caddyfile").content).toContain("203-0-113-10.sslip.io {");
    expect(file(config, "gateway.env").content).toBe(
      `LITELLM_MASTER_KEY=${ADMIN_KEY}\nOPENAI_API_KEY=sk-proj-upstream-0123456789\n`,
    );

    expect(inputsOf("digitalocean:index/reservedIp:ReservedIp", "GwA")).toEqual({
      region: "ams3",
    });
  });

  it("assigns the reserved IP to the droplet and firewalls it to 443 (+ SSH from the CIDR)", async () => {
    const gw = new gateway.ModelGateway("GwB", {
      ...baseSettings(),
      sshCidr: "198.51.100.7/32",
      adminKey: ADMIN_KEY,
      namePrefix: "kadi-chat-agent-test",
    });
    await resolved(pulumi.all([gw.firewall.id, gw.ipAssignment.id]));

    expect(inputsOf("digitalocean:index/reservedIpAssignment:ReservedIpAssignment", "GwB")).toEqual(
      { ipAddress: RESERVED_IP, dropletId: Number(DROPLET_ID) },
    );
    const firewall = inputsOf("digitalocean:index/firewall:Firewall", "GwB");
    expect(firewall.dropletIds).toEqual([Number(DROPLET_ID)]);
    expect(firewall.inboundRules).toEqual([
      { protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0", "::/0"] },
      { protocol: "tcp", portRange: "22", sourceAddresses: ["198.51.100.7/32"] },
    ]);
    const outbound = firewall.outboundRules as { protocol: string }[];
    expect(outbound.map((r) => r.protocol).sort()).toEqual(["icmp", "tcp", "udp"]);
  });

  it("opens only 443 without an SSH CIDR, and serves a configured domain", async () => {
    const gw = new gateway.ModelGateway("GwC", {
      ...baseSettings(),
      domain: "llm.example.org",
      adminKey: ADMIN_KEY,
      namePrefix: "kadi-chat-agent-test",
    });
    expect(await resolved(gw.url)).toBe("https://llm.example.org");
    await resolved(gw.firewall.id);
    const rules = inputsOf("digitalocean:index/firewall:Firewall", "GwC").inboundRules as {
      portRange: string;
    }[];
    expect(rules.map((r) => r.portRange)).toEqual(["443"]);
    const droplet = inputsOf("digitalocean:index/droplet:Droplet", "GwC");
    const config = parseCloudInit(secretValue(droplet.userData));
    expect(file(config, "Caddyfile").content).toContain("llm.example.org {");
    // No upstream key given: the env file holds the admin key alone.
    expect(file(config, "gateway.env").content).toBe(`LITELLM_MASTER_KEY=${ADMIN_KEY}\n`);
  });
});
