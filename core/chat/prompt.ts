import type { ChatMessage } from "../llm/types";
import { type StoredMessage, withActions } from "../memory/conversation-items";
import type { SummaryRecord } from "../memory/long-term/types";

/** The agent's standing instructions. Kept short: every token is paid on every turn. */
export const SYSTEM_PROMPT = [
  "You are a helpful assistant answering people in a team chat (Slack or Discord).",
  "Be concise and concrete; use the platform's plain Markdown; do not invent facts.",
  "Earlier turns of this conversation are included for context.",
  "Tools you called for an earlier answer are listed after it with their results; use them",
  "when asked about what you did.",
].join(" ");

/** Heading of the running-summary section of the system prompt. */
export const RUNNING_SUMMARY_HEADING = "Earlier in this conversation";

/** Heading of the recalled-memory section of the system prompt. */
export const RECALL_HEADING = "Background from earlier, archived conversations with this person";

/**
 * The system prompt for a turn: {@link SYSTEM_PROMPT}, then two labelled sections, each only
 * when it has content:
 * - {@link RUNNING_SUMMARY_HEADING}: the running summary of this conversation's archived part
 *   (the turns no longer in the message list), so "what did we decide earlier?" is answerable
 *   whatever words it uses;
 * - {@link RECALL_HEADING}: summaries recalled by search from the person's archived
 *   conversations, with the date each was written and a note that they may be outdated.
 * Both sit in the system prompt, apart from the recent messages, so the model can tell
 * remembered context from what was just said.
 */
export function buildSystemPrompt(memory: {
  runningSummary?: string | undefined;
  recalled: readonly SummaryRecord[];
}): string {
  const parts = [SYSTEM_PROMPT];
  const running = memory.runningSummary?.trim();
  if (running) {
    parts.push(
      "",
      `## ${RUNNING_SUMMARY_HEADING}`,
      "A summary of the earlier part of this conversation, whose messages are no longer shown.",
      running,
    );
  }
  if (memory.recalled.length > 0) {
    parts.push(
      "",
      `## ${RECALL_HEADING}`,
      "Summaries of older parts of your conversations with this person, most relevant first.",
      "Use them when they help answer; they may be outdated, and the recent messages win.",
      ...memory.recalled.map(
        (s) => `- (${new Date(s.createdAt).toISOString().slice(0, 10)}) ${s.text.trim()}`,
      ),
    );
  }
  return parts.join("\n");
}

/**
 * The message list for the model: the stored history (oldest first) followed by the new user
 * text. Consecutive turns of the same role are merged and a leading assistant turn is dropped,
 * because the Messages API expects the conversation to open with the user and alternate
 * (https://docs.anthropic.com/en/api/messages).
 */
export function buildMessages(history: readonly StoredMessage[], newText: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const turn of [...history, { role: "user" as const, content: newText }]) {
    const content = withActions(turn);
    if (!content.trim()) continue;
    const last = messages.at(-1);
    if (last && last.role === turn.role) last.content = `${last.content}\n\n${content}`;
    else if (messages.length > 0 || turn.role === "user") {
      messages.push({ role: turn.role, content });
    }
  }
  return messages;
}
