/**
 * Slack's live reply (docs/architecture.md, "Live replies"): Slack's native text streaming
 * through `@slack/web-api`'s `chatStream()` helper (`chat.startStream`, `chat.appendStream`,
 * `chat.stopStream`, https://docs.slack.dev/messaging/sending-and-scheduling-messages#text-streaming),
 * or, where streaming is refused or there is no thread to stream into, a placeholder edited
 * with `chat.update`.
 */
import type { ChatStreamer, WebClient } from "@slack/web-api";
import { SLACK_ASSISTANT } from "../../constants/platforms";
import { STREAMING } from "../../constants/timings";
import { openEditedReply } from "../../reply/edited-reply";
import {
  type LiveReply,
  type LiveReplyJob,
  type ReplyLedger,
  type ToolStep,
  toolStepLine,
} from "../../reply/live-reply";
import { createPacer } from "../../reply/pacer";
import { SLACK_MAX_MESSAGE_CHARS } from "./limits";

/**
 * `chat.startStream` errors that mean "this channel does not stream": the workspace or channel
 * refuses it, or the method is unknown (an older Enterprise Grid). The reply falls back to
 * `chat.update`, and the channel is remembered for the container's life.
 */
export const STREAM_REFUSALS = new Set([
  "not_allowed",
  "channel_type_not_supported",
  "unknown_method",
  "method_deprecated",
  "not_allowed_token_type",
  "missing_scope",
  "feature_not_enabled",
  "team_not_allowed",
]);

/** The placeholder of an edited reply, replaced by the first text. */
export const THINKING_PLACEHOLDER = "_Thinking…_";

/** The task shown in an opened stream while no text has arrived yet. */
const THINKING_TASK = { type: "task_update", id: "thinking", title: "Thinking…" } as const;

/** Where and to whom one Slack reply goes. */
export interface SlackReplyPlace {
  channel: string;
  /** The thread answered in; streams need one. */
  threadTs?: string | undefined;
  /** Team and user the stream is shown to (Slack requires both outside DMs). */
  teamId?: string | undefined;
  userId?: string | undefined;
}

/** What {@link openSlackLiveReply} needs besides the place. */
export interface SlackLiveReplyDeps {
  client: WebClient;
  ledger: ReplyLedger;
  /** Channels where `chat.startStream` was refused; shared by a container's replies. */
  refusedChannels: Set<string>;
  /** Told about failures that do not stop the reply (status, ledger, a refused stream). */
  warn: (message: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

/**
 * Opens the live reply of one job in Slack.
 * - A job with messages in its ledger (a redelivery) stops their streams (if still open) and
 *   edits them with `chat.update`; nothing new is posted for what they hold.
 * - In an assistant thread (a DM with a thread) `assistant.threads.setStatus` shows the
 *   loading messages at once.
 * - In a thread of a channel that streams, the stream opens with the first text (no buffering
 *   before it), or with a "Thinking…" task when no text came within
 *   `STREAMING.thinkingAfterMs`; its `ts` is recorded in the ledger before the first append;
 *   later text is appended at most once per `STREAMING.appendIntervalMs`.
 * - Elsewhere (no thread, or streaming refused) a placeholder is posted at once and edited with
 *   `chat.update` at most once per `STREAMING.editIntervalMs`.
 * Every message uses `markdown_text`, so Markdown renders.
 * @throws the Web API's error when the ledger read or the placeholder post fails.
 */
export async function openSlackLiveReply(
  place: SlackReplyPlace,
  job: LiveReplyJob,
  deps: SlackLiveReplyDeps,
): Promise<LiveReply> {
  const record = (ids: string[]) => deps.ledger.write(job.jobId, ids);
  const onRecordError = (error: unknown) =>
    deps.warn("reply ledger not written; a redelivery may post again", {
      jobId: job.jobId,
      error,
    });
  const edited = (existing: string[], placeholder?: string) =>
    openEditedReply({
      editor: slackEditor(deps.client, place.channel, place.threadTs),
      maxChars: SLACK_MAX_MESSAGE_CHARS,
      intervalMs: STREAMING.editIntervalMs,
      existing,
      ...(placeholder ? { placeholder } : {}),
      record,
      onRecordError,
      ...(deps.now ? { now: deps.now } : {}),
    });

  const earlier = await deps.ledger.read(job.jobId);
  if (earlier.length > 0) {
    for (const ts of earlier) {
      // Ends a stream the killed run left open; a finished message answers an error we ignore.
      await deps.client.chat.stopStream({ channel: place.channel, ts }).catch(() => undefined);
    }
    return edited(earlier);
  }
  const inAssistantThread = place.channel.startsWith("D") && place.threadTs !== undefined;
  if (inAssistantThread && place.threadTs) {
    await setThinkingStatus(deps, place.channel, place.threadTs, job.jobId);
  }
  if (!place.threadTs || deps.refusedChannels.has(place.channel)) {
    return edited([], THINKING_PLACEHOLDER);
  }
  return openStream(place, place.threadTs, deps, {
    record,
    onRecordError,
    fallback: (placeholder) => edited([], placeholder),
    jobId: job.jobId,
  });
}

/**
 * `chat.postMessage` / `chat.update` with `markdown_text`, in the thread when there is one.
 * `create` answers the new message's `ts`; both throw the Web API's error.
 */
export function slackEditor(client: WebClient, channel: string, threadTs: string | undefined) {
  return {
    async create(text: string): Promise<string> {
      const result = await client.chat.postMessage({
        channel,
        markdown_text: text,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      if (!result.ts) throw new Error("chat.postMessage returned no ts");
      return result.ts;
    },
    async edit(ts: string, text: string): Promise<void> {
      await client.chat.update({ channel, ts, markdown_text: text });
    },
  };
}

async function setThinkingStatus(
  deps: SlackLiveReplyDeps,
  channel: string,
  threadTs: string,
  jobId: string,
): Promise<void> {
  try {
    await deps.client.assistant.threads.setStatus({
      channel_id: channel,
      thread_ts: threadTs,
      status: SLACK_ASSISTANT.status,
      loading_messages: [...SLACK_ASSISTANT.loadingMessages],
    });
  } catch (error) {
    deps.warn("assistant.threads.setStatus failed; answering without a status", {
      jobId,
      code: slackErrorCode(error),
    });
  }
}

/** A stream's `task_update` chunk, as `@slack/web-api` types it. */
type TaskUpdateChunk = Extract<
  NonNullable<Parameters<ChatStreamer["append"]>[0]["chunks"]>[number],
  { type: "task_update" }
>;

/**
 * A tool step as a stream's `task_update` chunk: the timeline entry Slack shows above the text
 * (https://docs.slack.dev/messaging/sending-and-scheduling-messages#text-streaming).
 */
export function taskUpdate(step: ToolStep): TaskUpdateChunk {
  const status =
    step.state === "running" || step.state === "waiting"
      ? "in_progress"
      : step.state === "done"
        ? "complete"
        : "error";
  const line = toolStepLine(step);
  return {
    type: "task_update",
    id: step.id,
    title: step.state === "waiting" ? line : `Running ${step.label}`,
    status,
    ...(line !== `Running ${step.label}…` ? { details: line } : {}),
  };
}

/** The Web API error code (`not_allowed`, …) of a platform error, if it is one. */
export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === "string" ? data.error : undefined;
}

/** A native stream, falling back to an edited reply if Slack refuses to start it. */
async function openStream(
  place: SlackReplyPlace,
  threadTs: string,
  deps: SlackLiveReplyDeps,
  options: {
    record: (ids: string[]) => Promise<void>;
    onRecordError: (error: unknown) => void;
    /** An edited reply, opened with `placeholder` posted when given. */
    fallback: (placeholder?: string) => Promise<LiveReply>;
    jobId: string;
  },
): Promise<LiveReply> {
  const streamer: ChatStreamer = deps.client.chatStream({
    channel: place.channel,
    thread_ts: threadTs,
    ...(place.teamId ? { recipient_team_id: place.teamId } : {}),
    ...(place.userId ? { recipient_user_id: place.userId } : {}),
    // Our pacer decides when to call Slack; every append it makes goes out at once.
    buffer_size: 1,
  });
  let text = "";
  let sent = 0;
  let thinkingShown = false;
  let fallback: LiveReply | undefined;
  // Tool steps not yet sent as `task_update` chunks, and the latest state of each (replayed
  // into the edited reply if Slack refuses the stream).
  const taskChunks: TaskUpdateChunk[] = [];
  const steps = new Map<string, ToolStep>();

  async function start(chunks: Parameters<ChatStreamer["append"]>[0]): Promise<void> {
    try {
      await streamer.append(chunks);
    } catch (error) {
      const code = slackErrorCode(error);
      if (!code || !STREAM_REFUSALS.has(code)) throw error;
      deps.refusedChannels.add(place.channel);
      deps.warn("chat.startStream refused; falling back to chat.update", {
        jobId: options.jobId,
        code,
      });
      fallback = await options.fallback(THINKING_PLACEHOLDER);
      for (const step of steps.values()) fallback.progress?.(step);
      if (text) fallback.append(text);
      return;
    }
    if (streamer.ts) {
      try {
        await options.record([streamer.ts]);
      } catch (error) {
        options.onRecordError(error);
      }
    }
  }

  async function flush(): Promise<void> {
    if (fallback) return;
    // A stream holds one message's worth (the same limit as every other reply, so a long
    // answer splits at the same points however it was posted); the rest waits for `finish`.
    const pending = text.slice(sent, SLACK_MAX_MESSAGE_CHARS);
    const chunks = taskChunks.splice(0);
    if (!pending && chunks.length === 0) return;
    const args = {
      ...(pending ? { markdown_text: pending } : {}),
      ...(chunks.length ? { chunks } : {}),
    };
    if (streamer.ts === undefined) await start(args);
    else await streamer.append(args);
    if (!fallback) sent += pending.length;
  }

  // With no text yet, the paced flush opens the stream with the "Thinking…" task.
  const flushOrThink = async () => {
    if (!text && thinkingShown && streamer.ts === undefined && !fallback && !steps.size) {
      await start({ chunks: [{ ...THINKING_TASK, status: "in_progress" }] });
      return;
    }
    await flush();
  };
  const paced = createPacer({
    intervalMs: STREAMING.appendIntervalMs,
    flush: flushOrThink,
    ...(deps.now ? { now: deps.now } : {}),
  });

  const thinking = setTimeout(() => {
    if (text || streamer.ts !== undefined) return;
    thinkingShown = true;
    paced.request();
  }, STREAMING.thinkingAfterMs);

  return {
    state: "open",
    append(delta) {
      if (!delta) return;
      if (fallback) {
        fallback.append(delta);
        return;
      }
      text += delta;
      paced.request();
    },
    progress(step) {
      if (fallback) {
        fallback.progress?.(step);
        return;
      }
      if (steps.size === 0 && thinkingShown) {
        taskChunks.push({ ...THINKING_TASK, status: "complete" });
        thinkingShown = false;
      }
      steps.set(step.id, step);
      taskChunks.push(taskUpdate(step));
      paced.request();
    },
    async finish(final) {
      clearTimeout(thinking);
      const failure = await paced.drain();
      if (fallback) return fallback.finish(final);
      const ts = streamer.ts;
      if (ts === undefined) {
        // No stream was opened (no text came, or its start failed): an ordinary reply.
        return (await options.fallback()).finish(final);
      }
      const streamed = text.slice(0, sent);
      const fits =
        failure === undefined &&
        final.length <= SLACK_MAX_MESSAGE_CHARS &&
        final.startsWith(streamed);
      const done: TaskUpdateChunk[] = [
        ...taskChunks.splice(0),
        ...(thinkingShown ? [{ ...THINKING_TASK, status: "complete" as const }] : []),
      ];
      if (fits) {
        await streamer.stop({
          ...(final.length > sent ? { markdown_text: final.slice(sent) } : {}),
          ...(done.length ? { chunks: done } : {}),
        });
        return { messageId: ts };
      }
      // An append failed, or the answer changed or outgrew one streamed message: the stream
      // is ended and becomes an ordinary message, edited to the answer, with the rest in
      // further messages.
      // A stream Slack already ended answers an error here; the edit below is what counts.
      await streamer.stop(done.length ? { chunks: done } : undefined).catch(() => undefined);
      const rest = await openEditedReply({
        editor: slackEditor(deps.client, place.channel, threadTs),
        maxChars: SLACK_MAX_MESSAGE_CHARS,
        intervalMs: STREAMING.editIntervalMs,
        existing: [ts],
        record: options.record,
        onRecordError: options.onRecordError,
      });
      return rest.finish(final);
    },
  };
}
