import type { ChatMessage } from "../llm/types";
import type { StoredMessage } from "../memory/conversations";

/** The agent's standing instructions. Kept short: every token is paid on every turn. */
export const SYSTEM_PROMPT = [
  "You are a helpful assistant answering people in a team chat (Slack or Discord).",
  "Be concise and concrete; use the platform's plain Markdown; do not invent facts.",
  "Earlier turns of this conversation are included for context.",
].join(" ");

/**
 * The message list for the model: the stored history (oldest first) followed by the new user
 * text. Consecutive turns of the same role are merged and a leading assistant turn is dropped,
 * because the Messages API expects the conversation to open with the user and alternate
 * (https://docs.anthropic.com/en/api/messages).
 */
export function buildMessages(history: readonly StoredMessage[], newText: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const turn of [...history, { role: "user" as const, content: newText }]) {
    if (!turn.content.trim()) continue;
    const last = messages.at(-1);
    if (last && last.role === turn.role) last.content = `${last.content}\n\n${turn.content}`;
    else if (messages.length > 0 || turn.role === "user") {
      messages.push({ role: turn.role, content: turn.content });
    }
  }
  return messages;
}
