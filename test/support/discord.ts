/**
 * Test helpers that play Discord's side of interactions: an Ed25519 key pair standing in for
 * Discord's signing key, signatures computed as Discord computes them (hex Ed25519 over
 * `X-Signature-Timestamp` + raw body), and interaction payloads shaped like the documented
 * examples (https://discord.com/developers/docs/interactions/receiving-and-responding).
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";

/** The application's key pair: Discord keeps the private half, we configure the public one. */
export interface DiscordTestKeys {
  /** `DISCORD_PUBLIC_KEY`: 64 hex characters (raw 32-byte Ed25519 key). */
  publicKeyHex: string;
  privateKey: KeyObject;
}

/** Test application id (a snowflake). */
export const TEST_APPLICATION_ID = "1200000000000000001";

/** A fresh Ed25519 key pair. */
export function discordTestKeys(): DiscordTestKeys {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  return {
    publicKeyHex: Buffer.from(String(jwk.x), "base64url").toString("hex"),
    privateKey,
  };
}

/**
 * Headers Discord sends with an interaction: `X-Signature-Ed25519` = hex(Ed25519(timestamp +
 * body)) and `X-Signature-Timestamp` (epoch seconds, default now).
 */
export function signInteraction(
  keys: DiscordTestKeys,
  rawBody: string,
  options: { timestamp?: number } = {},
): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = sign(null, Buffer.from(timestamp + rawBody, "utf8"), keys.privateKey);
  return {
    "content-type": "application/json",
    "user-agent": "Discord-Interactions/1.0 (+https://discord.com)",
    "x-signature-ed25519": signature.toString("hex"),
    "x-signature-timestamp": timestamp,
  };
}

let sequence = 0n;

/** A snowflake whose timestamp is `timeMs` (epoch ms); unique within this process. */
export function snowflakeAt(timeMs: number = Date.now()): string {
  sequence = (sequence + 1n) & 0xfffn;
  return String(((BigInt(timeMs) - 1_420_070_400_000n) << 22n) | (1n << 17n) | sequence);
}

/** Common fields of a command interaction. */
export interface InteractionContext {
  /** Interaction id; default a fresh snowflake for now. */
  id?: string;
  applicationId?: string;
  /** Interaction token; default random. */
  token?: string;
  channelId?: string;
  userId?: string;
  /** Guild to invoke in (sends `member`); `null` invokes in a DM (sends `user`). */
  guildId?: string | null;
}

/** A `PING` (type 1), as Discord sends when the endpoint URL is saved and for health checks. */
export function pingInteraction(applicationId = TEST_APPLICATION_ID): Record<string, unknown> {
  return {
    id: snowflakeAt(),
    application_id: applicationId,
    type: 1,
    token: randomBytes(24).toString("base64url"),
    version: 1,
    user: { id: "100000000000000099", username: "discord", discriminator: "0000", bot: true },
  };
}

/**
 * An `APPLICATION_COMMAND` (type 2) interaction for a slash command with string options, in a
 * guild text channel (default) or a DM.
 */
export function commandInteraction(
  name: string,
  options: Record<string, string> = {},
  context: InteractionContext = {},
): Record<string, unknown> {
  const applicationId = context.applicationId ?? TEST_APPLICATION_ID;
  const channelId = context.channelId ?? "900000000000000009";
  const user = {
    id: context.userId ?? "800000000000000008",
    username: "alice",
    global_name: "Alice",
    discriminator: "0",
    avatar: null,
    public_flags: 0,
  };
  const guildId = context.guildId === undefined ? "700000000000000007" : context.guildId;
  const data = {
    id: "600000000000000006",
    name,
    type: 1,
    ...(Object.keys(options).length > 0
      ? { options: Object.entries(options).map(([n, value]) => ({ name: n, type: 3, value })) }
      : {}),
  };
  const where = guildId
    ? {
        guild_id: guildId,
        guild: { id: guildId, locale: "en-US", features: [] },
        guild_locale: "en-US",
        channel: { id: channelId, type: 0, guild_id: guildId, name: "general", nsfw: false },
        member: {
          user,
          roles: [],
          permissions: "2248473465835073",
          nick: null,
          avatar: null,
          joined_at: "2024-01-01T00:00:00.000000+00:00",
          deaf: false,
          mute: false,
          pending: false,
          flags: 0,
        },
        context: 0,
      }
    : {
        channel: { id: channelId, type: 1, recipients: [user] },
        user,
        context: 1,
      };
  return {
    id: context.id ?? snowflakeAt(),
    application_id: applicationId,
    type: 2,
    token: context.token ?? randomBytes(48).toString("base64url"),
    version: 1,
    data,
    channel_id: channelId,
    app_permissions: "2248473465835073",
    locale: "en-US",
    entitlements: [],
    authorizing_integration_owners: guildId ? { "0": guildId } : { "1": user.id },
    attachment_size_limit: 10485760,
    ...where,
  };
}

/** `/ask prompt:<prompt> [model:<model>]`. */
export function askInteraction(
  prompt: string,
  options: InteractionContext & { model?: string } = {},
): Record<string, unknown> {
  const { model, ...context } = options;
  return commandInteraction("ask", { prompt, ...(model ? { model } : {}) }, context);
}

/**
 * POSTs `payload` to `{baseUrl}/discord/interactions`, signed with `keys` as Discord signs it,
 * and resolves with the HTTP status and the JSON answer.
 */
export async function postInteraction(
  baseUrl: string,
  keys: DiscordTestKeys,
  payload: Record<string, unknown>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = JSON.stringify(payload);
  const res = await fetch(`${baseUrl}/discord/interactions`, {
    method: "POST",
    body,
    headers: signInteraction(keys, body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * A `MESSAGE_COMPONENT` (type 3) interaction: a press of the button `customId` on a bot message
 * with `content`, in a guild (default) or a DM, shaped like Discord's
 * (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object).
 */
export function componentInteraction(
  customId: string,
  context: InteractionContext & { content?: string; messageId?: string } = {},
): Record<string, unknown> {
  const { content, messageId, ...rest } = context;
  const base = commandInteraction("unused", {}, rest);
  const applicationId = (base.application_id as string) ?? TEST_APPLICATION_ID;
  return {
    ...base,
    type: 3,
    data: { custom_id: customId, component_type: 2 },
    message: {
      id: messageId ?? snowflakeAt(),
      type: 0,
      content: content ?? "Run `uptime` on build?",
      channel_id: base.channel_id,
      author: { id: applicationId, username: "kadi-agent", bot: true, discriminator: "0" },
      components: [
        {
          type: 1,
          components: [
            { type: 2, style: 3, label: "Approve", custom_id: customId },
            {
              type: 2,
              style: 4,
              label: "Deny",
              custom_id: customId.replace(/^[^:]+/, "tool_deny"),
            },
          ],
        },
      ],
      flags: 0,
      timestamp: new Date().toISOString(),
    },
  };
}

/**
 * POSTs a press of the button `customId` (see {@link componentInteraction}) to
 * `{baseUrl}/discord/interactions`, signed like {@link postInteraction}.
 */
export async function postComponentInteraction(
  baseUrl: string,
  keys: DiscordTestKeys,
  customId: string,
  context: InteractionContext & { content?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  return postInteraction(baseUrl, keys, componentInteraction(customId, context));
}
