/**
 * A live reply made of ordinary messages that are edited as text arrives: Discord's deferred
 * `@original` and its follow-ups, Slack's placeholder and `chat.update` where streaming is
 * refused, and any reply a redelivered job finishes (docs/architecture.md, "Live replies").
 */
import { type LiveReply, toolStepLine, withStepLines } from "./live-reply";
import { createPacer } from "./pacer";
import { splitMessage } from "./split";

/** The two calls an edited reply makes on a platform. */
export interface MessageEditor {
  /**
   * Posts a new message showing `text`.
   * @returns its platform id.
   * @throws the platform client's error.
   */
  create(text: string): Promise<string>;
  /**
   * Replaces the text of message `id`.
   * @throws the platform client's error.
   */
  edit(id: string, text: string): Promise<void>;
}

/** Options of {@link openEditedReply}. */
export interface EditedReplyOptions {
  editor: MessageEditor;
  /** Characters one message holds; longer text continues in further messages. */
  maxChars: number;
  /** Least time between two platform calls, ms (`STREAMING.editIntervalMs`). */
  intervalMs: number;
  /**
   * Ids of messages that exist already, in order: Discord's `@original`, or what an earlier run
   * of the job posted (its reply ledger). They are edited, never posted again.
   */
  existing?: string[];
  /** Posted at once when no message exists yet, so the person sees the agent working. */
  placeholder?: string;
  /**
   * Records the ids of every message posted so far, called after each new message and before
   * text is added to it (the job's reply ledger). A failure is reported to `onRecordError`
   * and the reply carries on: the person still gets the answer.
   */
  record: (messageIds: string[]) => Promise<void>;
  /** Told when {@link EditedReplyOptions.record} fails. Must not throw. */
  onRecordError?: (error: unknown) => void;
  /** Epoch-ms clock; default `Date.now`. */
  now?: () => number;
}

/**
 * Opens an edited live reply: posts the placeholder (when given and no message exists) before
 * resolving, then shows the growing text at most once per `intervalMs`, split into messages of
 * `maxChars` (`splitMessage`: the earlier messages' text no longer changes once the next one
 * starts). `finish` waits for the edit in flight and shows the whole text; a message whose text
 * is unchanged is not edited again. Tool steps (`progress`) show as italic lines above the
 * text and stay there in the finished reply, a record of what the agent did.
 * @throws the platform client's error when the placeholder cannot be posted.
 */
export async function openEditedReply(options: EditedReplyOptions): Promise<LiveReply> {
  const ids = [...(options.existing ?? [])];
  // What each message shows, as far as we know: a message from an earlier run is unknown.
  const shown: (string | undefined)[] = ids.map(() => undefined);
  let text = "";
  // Tool steps shown above the text, one line per call id, in the order the calls started.
  const steps = new Map<string, string>();
  const compose = (body: string) => withStepLines([...steps.values()], body);

  async function record(): Promise<void> {
    try {
      await options.record([...ids]);
    } catch (error) {
      options.onRecordError?.(error);
    }
  }

  async function show(full: string): Promise<void> {
    const chunks = splitMessage(full, options.maxChars);
    for (const [index, chunk] of chunks.entries()) {
      if (index < ids.length) {
        if (shown[index] === chunk) continue;
        await options.editor.edit(ids[index] as string, chunk);
        shown[index] = chunk;
      } else {
        ids.push(await options.editor.create(chunk));
        shown.push(chunk);
        await record();
      }
    }
  }

  if (ids.length === 0 && options.placeholder) {
    ids.push(await options.editor.create(options.placeholder));
    shown.push(options.placeholder);
    await record();
  }

  const pacer = createPacer({
    intervalMs: options.intervalMs,
    flush: () => show(compose(text)),
    ...(options.now ? { now: options.now } : {}),
  });

  return {
    state: "open",
    append(delta) {
      if (!delta) return;
      text += delta;
      pacer.request();
    },
    progress(step) {
      steps.set(step.id, toolStepLine(step));
      pacer.request();
    },
    async finish(final) {
      // A paced edit that failed is retried by showing the whole text below.
      await pacer.drain();
      await show(compose(final));
      const first = ids[0];
      if (first === undefined) throw new RangeError("cannot finish a reply with no text");
      return { messageId: first };
    },
  };
}
