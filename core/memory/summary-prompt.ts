import type { ChatMessage } from "../llm/types";
import { type RunningSummary, type StoredMessage, withActions } from "./conversation-items";

/**
 * The summarisation prompt of the archiver and how its answer is read (pure): one call per
 * archived chunk returns the chunk's summary and the running summary with the chunk folded in.
 */

/** Tags that delimit the two parts of a summary answer (XML tags, as Anthropic recommends for
 * structured output: https://docs.anthropic.com/en/docs/build-with-claude/prompt-engineering/use-xml-tags). */
export const CHUNK_SUMMARY_TAG = "chunk_summary";
/** See {@link CHUNK_SUMMARY_TAG}. */
export const RUNNING_SUMMARY_TAG = "running_summary";

/**
 * Bound of the running summary, tokens. The summary prompt asks for it (in words, which models
 * follow more reliably than token counts: about 0.75 words per token in English); the text is
 * never cut afterwards, since a sliced summary loses its latest facts.
 */
export const RUNNING_SUMMARY_MAX_TOKENS = 600;

/**
 * Instructions of the summariser. One call does two jobs (so archiving costs one LLM call per
 * chunk): a summary of the excerpt alone, durable and indexed for search, and the running
 * summary with the excerpt folded in (progressive summarisation, as in LangChain's
 * summary-buffer memory), which every later turn of the conversation carries.
 */
export const SUMMARY_SYSTEM_PROMPT = [
  "You write the long-term memory of a chat assistant.",
  "You get the running summary of a conversation with one person (empty at first) and the next",
  "excerpt of that conversation, oldest first. Answer with exactly two parts and nothing else:",
  `<${CHUNK_SUMMARY_TAG}>the excerpt alone, for a later search: keep the facts, decisions,`,
  "names (people, projects, places, numbers, codes) and open questions; drop greetings and",
  `small talk; a few plain sentences, at most about 120 words.</${CHUNK_SUMMARY_TAG}>`,
  `<${RUNNING_SUMMARY_TAG}>the running summary with the excerpt folded in: what a later turn of`,
  "this conversation needs to know about everything said so far, in plain sentences, at most",
  `${Math.round(RUNNING_SUMMARY_MAX_TOKENS * 0.6)} words (about ${RUNNING_SUMMARY_MAX_TOKENS}`,
  "tokens). When it would be longer, shorten or drop the least important older details first;",
  `keep the latest decisions and open questions.</${RUNNING_SUMMARY_TAG}>`,
].join(" ");

/** Output token cap of one summary call: both parts, with room to spare. */
export const SUMMARY_MAX_TOKENS = 1_000;

/**
 * The summarisation request for a chunk (oldest first) and the running summary so far: one
 * user message holding the running summary (or "(none yet)") and the excerpt as
 * `[time] User|Assistant: text` lines, times in UTC ISO 8601 to the minute.
 */
export function buildSummaryRequest(
  messages: readonly StoredMessage[],
  running?: RunningSummary,
): { system: string; messages: ChatMessage[] } {
  const lines = messages.map((m) => {
    const at = new Date(m.sentAt).toISOString().slice(0, 16).replace("T", " ");
    return `[${at}] ${m.role === "user" ? "User" : "Assistant"}: ${withActions(m)}`;
  });
  return {
    system: SUMMARY_SYSTEM_PROMPT,
    messages: [
      {
        role: "user",
        content:
          `Running summary so far:\n${running?.text.trim() || "(none yet)"}\n\n` +
          `Conversation excerpt, oldest first:\n\n${lines.join("\n")}\n\n` +
          `Write the ${CHUNK_SUMMARY_TAG} and the ${RUNNING_SUMMARY_TAG}.`,
      },
    ],
  };
}

/**
 * The two parts of a summary answer, or `undefined` when either tag is missing or empty.
 * Tags are matched case-insensitively; whatever stands outside them is ignored.
 */
export function parseSummaryAnswer(
  answer: string,
): { chunkSummary: string; runningSummary: string } | undefined {
  const part = (tag: string) =>
    new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "i").exec(answer)?.[1]?.trim() ?? "";
  const chunkSummary = part(CHUNK_SUMMARY_TAG);
  const runningSummary = part(RUNNING_SUMMARY_TAG);
  return chunkSummary && runningSummary ? { chunkSummary, runningSummary } : undefined;
}

/**
 * The summary model's answer lacked one of the two tagged parts (see `parseSummaryAnswer`);
 * the step is retried like any failed summary call. Carries the answer's size, never its text.
 */
export class SummaryFormatError extends Error {
  override readonly name = "SummaryFormatError";
  constructor(
    readonly model: string,
    readonly answerChars: number,
  ) {
    super(
      `${model} answered without both <${CHUNK_SUMMARY_TAG}> and <${RUNNING_SUMMARY_TAG}> ` +
        `(${answerChars} characters)`,
    );
  }
}
