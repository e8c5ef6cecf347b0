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
}

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
  return message;
}
