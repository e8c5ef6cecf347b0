/**
 * What a chat platform plugs in (docs/architecture.md, "Adding a platform"). A platform is one
 * folder, `core/platforms/{name}/`, whose `index.ts` exports one {@link PlatformAdapter}: its
 * webhook (signature check, payload schemas, message → {@link ChatJob}) and its binding to the
 * KĀDI transport (the mentions a broker relays, the broker tools that post replies). Its direct
 * replier (`replier.ts`, a {@link Replier}) is built by the chat worker's composition only, so
 * the ingress loads no Web API client for a message (Slack's webhook loads one on
 * `assistant_thread_started` only, in a chunk of its own).
 */
import type { ApprovalDecision, DecideResult } from "../agent/approvals";
import type { ChatJob } from "../chat/job";
import type { Config } from "../config";
import type { RemotePlatform } from "../constants/platforms";
import type { Webhook } from "../ingress/pipeline";
import type { PreferenceStore } from "../memory/preferences";
import type { ConversationRef } from "../memory/table/keys";
import type { ThreadParticipationStore } from "../memory/threads";

/** Clears one conversation; resolves to how many messages and summaries were removed. */
export type ForgetConversation = (
  ref: ConversationRef,
) => Promise<{ messages: number; summaries: number }>;

/**
 * What a platform's webhook may use besides the configuration, one per container; the ingress
 * builds each service on its first use.
 */
export interface WebhookServices {
  /** Backs commands that clear a conversation (Discord's `/forget`). */
  forget: ForgetConversation;
  /** Backs commands that store a preference (Discord's `/model`). */
  preferences: Pick<PreferenceStore, "put">;
  /**
   * Whether the agent takes part in a thread (Slack's thread follow-ups without a mention); the
   * worker writes the marks, the ingress only reads them.
   */
  threads: Pick<ThreadParticipationStore, "joined">;
  /** Records Approve / Deny clicks on pending tool calls (Slack buttons, Discord components). */
  approvals: ApprovalDecider;
}

/** `ApprovalStore`'s click side, with the ingress's clock. */
export interface ApprovalDecider {
  /** See `ApprovalStore.decide`; the click's time is now. */
  decide(
    approvalId: string,
    click: { userId: string; decision: ApprovalDecision },
  ): Promise<DecideResult>;
  /** See `ApprovalStore.reopen`. */
  reopen(approvalId: string): Promise<boolean>;
}

/** One broker tool call that posts part of a reply: tool name and its input. */
export interface RelayCall {
  tool: string;
  input: Record<string, string>;
}

/**
 * What parsing one relayed mention gave. `job` is undefined when nothing is left to answer
 * once the bot's mentions are removed; `mentionedBot` is the publisher's `bot_id`, when sent.
 */
export type ParsedMention =
  /** `error` names the field at fault, never its value; `eventId` is for the log. */
  | { ok: false; error: string; eventId?: string }
  | {
      ok: true;
      eventId: string;
      user: string;
      mentionedBot?: string | null | undefined;
      job: ChatJob | undefined;
    };

/**
 * How a platform's messages travel through a KĀDI broker, whose platform agents publish
 * mentions on `{channelPrefix}{botUserId}` and expose reply tools
 * (docs/architecture.md, "Platforms and transports").
 */
export interface KadiBinding {
  /** Prefix of the mention channel, e.g. `slack.app_mention.`; the suffix is our bot's id. */
  readonly channelPrefix: string;
  /**
   * Reads one published mention (already unwrapped from a KĀDI core envelope) into a job
   * answered through the broker (`reply.via` = `kadi`). Pure.
   * @param context.channel - the delivery's channel; @param context.nowMs - fallback `sentAt`.
   */
  parseMention(
    data: unknown,
    context: { channel: string; botUserId: string | undefined; nowMs: number },
  ): ParsedMention;
  /** Characters per relayed message. */
  readonly maxMessageChars: number;
  /**
   * The broker tool calls that post `chunks` (in order) to a `via: "kadi"` address.
   * @throws {InvalidReplyAddressError} when the address lacks a field this platform needs.
   */
  relayCalls(address: Record<string, string>, chunks: readonly string[]): RelayCall[];
  /** The id replied to, for a relay whose tools answer no message id. */
  repliedTo(address: Record<string, string>): string;
}

/**
 * One chat platform's inbound side and KĀDI binding. Its webhook is always built: when the
 * platform's credentials are not configured, its `verify` step answers 503 naming what to set.
 */
export interface PlatformAdapter {
  readonly platform: RemotePlatform;
  /** Route of the webhook, e.g. `/slack/events`. */
  readonly path: string;
  /**
   * Builds the webhook from the configuration; see {@link Webhook}. Loads the webhook's module
   * (schemas, signature library) on the call, so that a cold start evaluates only the webhooks
   * it serves: the ingress calls this on the route's first request.
   */
  webhook(config: Config, services: WebhookServices): Promise<Webhook<unknown>>;
  readonly kadi: KadiBinding;
  /**
   * Further webhook routes of the platform, built the same way as {@link webhook} (Slack's
   * interactivity, `/slack/interactions`).
   */
  readonly moreWebhooks?: readonly {
    path: string;
    webhook(config: Config, services: WebhookServices): Promise<Webhook<unknown>>;
  }[];
}
