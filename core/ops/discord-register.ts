import { parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig } from "../config";
import { COMMANDS, type CommandDefinition } from "../platforms/discord/commands";
import {
  DiscordApiError,
  type DiscordRestOptions,
  discordRequest,
} from "../platforms/discord/rest";

/** A command as Discord stored it (the fields we report). */
export interface RegisteredCommand {
  id: string;
  name: string;
  description: string;
  guild_id?: string;
}

/**
 * Replaces the application's slash commands with `commands` (default {@link COMMANDS}) through
 * Discord's bulk overwrite: `PUT /applications/{application_id}/commands` (global; Discord may
 * take a while to show changes everywhere) or `PUT
 * /applications/{application_id}/guilds/{guild_id}/commands` (one guild, immediate)
 * (https://discord.com/developers/docs/interactions/application-commands#bulk-overwrite-global-application-commands).
 * Commands not in the list are deleted.
 *
 * @param rest - must carry `authorization: "Bot <DISCORD_BOT_TOKEN>"`.
 * @returns the commands as Discord stored them (with their ids).
 * @throws {DiscordApiError} when Discord refuses (e.g. 401 for a bad token, 400 with code
 *   50035 for an invalid definition).
 */
export async function registerCommands(
  rest: DiscordRestOptions,
  target: { applicationId: string; guildId?: string },
  commands: readonly CommandDefinition[] = COMMANDS,
): Promise<RegisteredCommand[]> {
  const path = target.guildId
    ? `/applications/${target.applicationId}/guilds/${target.guildId}/commands`
    : `/applications/${target.applicationId}/commands`;
  const route = target.guildId
    ? "/applications/{application_id}/guilds/{guild_id}/commands"
    : "/applications/{application_id}/commands";
  return discordRequest<RegisteredCommand[]>(rest, { method: "PUT", path, route, body: commands });
}

/** Usage text printed by `--help` and after argument errors. */
export const REGISTER_USAGE = `Usage: npm run discord:register [-- --guild <guild id>]

Registers the agent's slash commands (${COMMANDS.map((c) => `/${c.name}`).join(", ")}) for the
application DISCORD_APPLICATION_ID with the bot token DISCORD_BOT_TOKEN, replacing any others.
Without --guild they are global; with it they exist in that guild only and show up at once
(handy while testing).

Options:
  --guild <id>   register in this guild (server id) instead of globally
  --help         print this text`;

/** I/O of {@link runRegisterCli}. */
export interface RegisterCliIo {
  /**
   * Variables to read instead of the process's own. Omitted (the script), `loadConfig` reads
   * `process.env` and what SST links, so `npx sst shell -- npm run discord:register` finds the
   * `DiscordBotToken` secret.
   */
  env?: Record<string, string | undefined>;
  /** Prints one line of the report (stdout). */
  out: (line: string) => void;
  /** Prints one line of an error (stderr). */
  err: (line: string) => void;
  fetch?: typeof fetch;
}

/**
 * `npm run discord:register [-- --guild <id>]`: reads `DISCORD_APPLICATION_ID`,
 * `DISCORD_BOT_TOKEN` and `DISCORD_API_URL` through `loadConfig`, registers {@link COMMANDS}
 * and prints what Discord stored.
 * @returns the process exit code: 0 on success (or `--help`), 1 on any failure, with the
 *   reason (and what to check) printed to `err`. Never throws.
 */
export async function runRegisterCli(argv: readonly string[], io: RegisterCliIo): Promise<number> {
  let guild: string | undefined;
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { guild: { type: "string" }, help: { type: "boolean" } },
    });
    if (values.help) {
      io.out(REGISTER_USAGE);
      return 0;
    }
    guild = values.guild;
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${REGISTER_USAGE}`);
    return 1;
  }
  if (guild !== undefined && !/^\d{15,22}$/.test(guild)) {
    io.err(
      `--guild must be a guild id (a snowflake such as 123456789012345678)\n\n${REGISTER_USAGE}`,
    );
    return 1;
  }

  let config: Config;
  try {
    config = loadConfig({
      ...(io.env ? { env: io.env } : {}),
      required: ["DISCORD_APPLICATION_ID", "DISCORD_BOT_TOKEN"],
    });
  } catch (error) {
    io.err(
      error instanceof ConfigError
        ? error.message
        : `Reading the configuration failed: ${String(error)}`,
    );
    return 1;
  }
  const { applicationId, botToken, apiUrl } = config.discord;
  const where = guild ? `guild ${guild}` : "all guilds and DMs (global)";
  try {
    const registered = await registerCommands(
      {
        apiUrl,
        authorization: `Bot ${botToken}`,
        ...(io.fetch ? { fetch: io.fetch } : {}),
      },
      { applicationId: applicationId as string, ...(guild ? { guildId: guild } : {}) },
    );
    io.out(
      `Registered ${registered.length} commands for application ${applicationId} in ${where}:`,
    );
    for (const command of registered) {
      io.out(`  /${command.name}  (id ${command.id})  ${command.description}`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof DiscordApiError)) {
      io.err(`Registering the commands failed: ${String(error)}`);
      return 1;
    }
    io.err(`Registering the commands in ${where} failed: ${error.message}`);
    const hint = registerHint(error);
    if (hint) io.err(hint);
    return 1;
  }
}

function registerHint(error: DiscordApiError): string | undefined {
  if (error.status === 0) return "Could not reach Discord: check DISCORD_API_URL and the network.";
  if (error.status === 401) return "Discord did not accept DISCORD_BOT_TOKEN (Bot → Reset Token).";
  if (error.status === 403) {
    return (
      "The bot may not manage this application's commands there: check that DISCORD_BOT_TOKEN " +
      "belongs to DISCORD_APPLICATION_ID and, with --guild, that the app was installed in that " +
      "guild with the applications.commands scope."
    );
  }
  if (error.status === 429) return "Rate limited by Discord: wait a minute and run it again.";
  return undefined;
}
