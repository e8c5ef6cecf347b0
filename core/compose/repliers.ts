/**
 * The chat worker's reply router: every platform's direct replier and the KĀDI relay, built
 * once per container (docs/architecture.md, "Adding a platform"). Kept apart from
 * `./platforms.ts` so the ingress bundle never loads a platform's Web API client.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { createReplyRouter, type Replier, type ReplyRoutes } from "../chat/replier";
import type { Config } from "../config";
import type { KadiToolInvoker } from "../kadi/replier";
import { ReplyLedgerStore } from "../memory/reply-ledger";
import { ThreadParticipationStore } from "../memory/threads";
import { DiscordInteractionReplier } from "../platforms/discord/replier";
import { SlackReplier } from "../platforms/slack/replier";
import { type AwsClients, memoryTable } from "./aws";
import { buildKadiReplier } from "./kadi";

/** Each platform's direct replier, or `undefined` (with what to set) when not configured. */
function directRepliers(
  config: Config,
  aws: AwsClients,
  logger: Logger,
): Pick<ReplyRoutes, "direct" | "missing"> {
  const ledger = new ReplyLedgerStore(memoryTable(config, aws));
  const warn = (message: string, fields: Record<string, unknown>) => logger.warn(message, fields);
  return {
    direct: {
      ...(config.slack.botToken
        ? {
            slack: new SlackReplier({
              botToken: config.slack.botToken,
              apiUrl: config.slack.apiUrl,
              ledger,
              warn,
              threads: new ThreadParticipationStore(memoryTable(config, aws)),
            }),
          }
        : {}),
      // Interaction webhooks are authorised by the interaction token the job carries, with the
      // interaction's own application id, so no Discord credential is needed to answer; a
      // Discord job only exists once the ingress verified its signature.
      discord: new DiscordInteractionReplier(
        { apiUrl: config.discord.apiUrl },
        {
          ledger,
          warn,
          bot: config.discord.botToken
            ? {
                apiUrl: config.discord.apiUrl,
                authorization: `Bot ${config.discord.botToken}`,
              }
            : undefined,
        },
      ),
    },
    missing: {
      direct: {
        slack: "SLACK_BOT_TOKEN is not set",
        web: "the web console exists only in the local stack (npm start)",
      },
      kadi: "KADI_BROKER_URL is not set",
    },
  };
}

/**
 * The worker's {@link Replier}: direct replies per platform, relayed ones through KĀDI when
 * `KADI_BROKER_URL` is set, `inline` ones nowhere.
 * @param kadiInvoker - replaces the lazy per-container KĀDI client (the local stack's).
 */
export function buildReplyRouter(
  config: Config,
  aws: AwsClients,
  logger: Logger,
  kadiInvoker?: KadiToolInvoker,
): Replier {
  const { direct, missing } = directRepliers(config, aws, logger);
  return createReplyRouter({
    direct,
    kadi: buildKadiReplier(config, logger, kadiInvoker),
    missing,
  });
}
