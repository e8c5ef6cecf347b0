/**
 * The shapes of a conversation's items (messages, META's head and running summary) and how they
 * are read back from DynamoDB, shared by the message log (`conversations.ts`) and the archive
 * ledger (`archive-ledger.ts`).
 */

/**
 * A message as a turn hands it to the store; the store assigns its id (the conversation's next
 * sequence number) when it appends.
 */
export interface NewMessage {
  role: "user" | "assistant";
  content: string;
  /**
   * When the message was sent, epoch ms: the platform's time for a user message (Slack `ts`,
   * Discord snowflake, KĀDI event `ts`), the post time for an answer. Shown in summary excerpts
   * only; it never orders anything, because platform and worker clocks disagree and jobs run
   * late (backlogs, redeliveries, relayed events).
   */
  sentAt: number;
  /** Model that produced an assistant message. */
  model?: string;
  /** The tool calls the agent made for an assistant message, in order (absent: none). */
  actions?: ToolCallRecord[];
}

/**
 * Why a tool call failed, as the model is told: `invalid_input` (the input did not match the
 * schema; the message names the field), `timeout` (no answer before the deadline),
 * `unavailable` (the broker or store could not be reached), `failed` (the tool answered an
 * error), `denied` (the person refused it), `expired` (nobody decided in time).
 */
export type ToolErrorKind =
  | "invalid_input"
  | "timeout"
  | "unavailable"
  | "failed"
  | "denied"
  | "expired";

/**
 * One tool call as the turn remembers it: stored with the assistant's answer (so "where did you
 * put it?" is answered from it), summarised by the archiver, and written to the audit log.
 * `input` and `result` are redacted (secret-looking fields and values replaced) and cut to the
 * result budget; both are JSON text.
 */
export type ToolCallRecord = {
  tool: string;
  /** Redacted input, JSON, at most a few hundred bytes. */
  input: string;
  /** `ok`, or the {@link ToolErrorKind} it failed with. */
  outcome: "ok" | ToolErrorKind;
  /** Redacted result or error message, JSON or text, cut to the result budget. */
  result: string;
  durationMs: number;
};

/** One stored message: a {@link NewMessage} with the id the store gave it. */
export interface StoredMessage extends NewMessage {
  /** The conversation's sequence number, zero-padded (`messageIdOf`); sorts as stored. */
  messageId: string;
}

/**
 * The conversation's running summary (progressive summarisation): everything archived so far,
 * folded chunk by chunk by the archiver into one bounded text kept on META.
 */
export interface RunningSummary {
  /** Plain text, at most about 600 tokens (bounded by the summary prompt). */
  text: string;
  /** Id of the last message folded in. */
  throughMessageId: string;
  /** When it was last folded, epoch ms. */
  updatedAt: number;
  /** Model that wrote it. */
  model?: string;
}

/** What a turn reads from META before it runs (one strongly consistent GetItem). */
export interface ConversationHead {
  /** Highest sequence number assigned so far; 0 for a new (or forgotten) conversation. */
  lastSeq: number;
  /** Live (not yet archived) messages. */
  messageCount: number;
  /** The archived part of the conversation, once something was archived. */
  runningSummary?: RunningSummary;
}

/** META as a {@link ConversationHead}; a missing item reads as a new conversation. */
export function toHead(item: Record<string, unknown> | undefined): ConversationHead {
  const head: ConversationHead = {
    lastSeq: Number(item?.lastSeq ?? 0),
    messageCount: Number(item?.messageCount ?? 0),
  };
  const running = toRunningSummary(item?.runningSummary);
  if (running) head.runningSummary = running;
  return head;
}

/**
 * The running summary stored on META (`runningSummary`), or `undefined` when absent or not of
 * the {@link RunningSummary} shape.
 */
export function toRunningSummary(value: unknown): RunningSummary | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  if (typeof raw.text !== "string" || typeof raw.throughMessageId !== "string") return undefined;
  const running: RunningSummary = {
    text: raw.text,
    throughMessageId: raw.throughMessageId,
    updatedAt: Number(raw.updatedAt ?? 0),
  };
  if (typeof raw.model === "string") running.model = raw.model;
  return running;
}

/** A message item as a {@link StoredMessage}. */
export function toStoredMessage(item: Record<string, unknown>): StoredMessage {
  const message: StoredMessage = {
    messageId: String(item.messageId),
    role: item.role === "assistant" ? "assistant" : "user",
    content: String(item.content ?? ""),
    sentAt: Number(item.sentAt ?? 0),
  };
  if (typeof item.model === "string") message.model = item.model;
  const actions = toActions(item.actions);
  if (actions.length > 0) message.actions = actions;
  return message;
}

/** The stored `actions` list as {@link ToolCallRecord}s; entries of another shape are skipped. */
function toActions(value: unknown): ToolCallRecord[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((raw: Record<string, unknown>) =>
    typeof raw?.tool === "string"
      ? [
          {
            tool: raw.tool,
            input: String(raw.input ?? ""),
            outcome: String(raw.outcome ?? "ok") as ToolCallRecord["outcome"],
            result: String(raw.result ?? ""),
            durationMs: Number(raw.durationMs ?? 0),
          },
        ]
      : [],
  );
}

/** Opens the list of tool calls appended to an answer by {@link withActions}. */
export const ACTIONS_HEADING = "[Tools used for this answer:";

/**
 * A message's text with the tool calls made for it appended, one line each (`tool input →
 * result` or `tool input → outcome: message`), as the model and the archiver read it: so a
 * follow-up ("where did you put it?") is answered from what was done, and summaries mention it.
 */
export function withActions(message: Pick<NewMessage, "content" | "actions">): string {
  if (!message.actions?.length) return message.content;
  const lines = message.actions.map(
    (a) =>
      `- ${a.tool} ${a.input} → ${a.outcome === "ok" ? a.result : `${a.outcome}: ${a.result}`}`,
  );
  return `${message.content}\n\n${ACTIONS_HEADING}\n${lines.join("\n")}]`;
}
