/**
 * The shape of a reply that is shown while it is written (docs/architecture.md, "Live
 * replies"): opened when a job starts, fed the model's text as it streams, finished with the
 * whole answer. Each platform implements it its own way (Slack's `chat.startStream` family or
 * `chat.update`, Discord's edits of `@original`, one final post through KĀDI).
 */

/** One answer being shown. */
export interface LiveReply {
  /**
   * `open` for a reply that can be shown; `expired` when the platform no longer accepts it
   * (a Discord interaction token past its 15 minutes): the person was told where that is
   * possible, and the job should not call a model.
   */
  readonly state: "open" | "expired";
  /**
   * Adds streamed text. Never throws and never waits: platform calls are paced behind it, and
   * their failures surface in {@link LiveReply.finish}.
   */
  append(delta: string): void;
  /**
   * Makes the reply show exactly `text` (the whole answer, footer included), ending any
   * stream; further messages are posted when `text` is longer than one message allows.
   * @returns the platform id of the first message (Slack `ts`, Discord message id).
   * @throws the platform client's error when the final call fails; the messages already
   *   posted are in the job's reply ledger, so a redelivery edits them instead of posting.
   */
  finish(text: string): Promise<{ messageId: string }>;
  /**
   * Shows how a tool call stands ("Running cloud upload… done (1.2 s)"): a Slack stream
   * `task_update` chunk, or a status line above the text of an edited reply, replaced in place
   * as the same `step.id` moves on. Never throws and never waits, like `append`. Absent where
   * nothing can be shown until the end (the KĀDI relay).
   */
  progress?(step: ToolStep): void;
}

/** Where one tool call of the agent turn stands, as the person sees it. */
export interface ToolStep {
  /** The call's id (the model's tool-call id): later states of the call replace earlier ones. */
  id: string;
  /** Short human name of the tool, e.g. "cloud upload". */
  label: string;
  /**
   * `running`; `done`; `failed` (`detail` says why); `waiting` for the person's approval;
   * `denied` by the person or `expired` unanswered.
   */
  state: "running" | "done" | "failed" | "waiting" | "denied" | "expired";
  /** How long the call ran, ms (for `done` and `failed`). */
  durationMs?: number;
  /** Why it failed, in a few words (`timeout`, `unavailable`, …). */
  detail?: string;
}

/**
 * One status line for a {@link ToolStep}, e.g. "Running cloud upload…", "Running cloud
 * upload… done (1.2 s)", "Running ssh execute… failed: timeout (8.0 s)", "Waiting for your
 * approval to run ssh execute…".
 */
export function toolStepLine(step: ToolStep): string {
  const running = `Running ${step.label}…`;
  const took = step.durationMs === undefined ? "" : ` (${(step.durationMs / 1000).toFixed(1)} s)`;
  switch (step.state) {
    case "running":
      return running;
    case "done":
      return `${running} done${took}`;
    case "failed":
      return `${running} failed${step.detail ? `: ${step.detail}` : ""}${took}`;
    case "waiting":
      return `Waiting for your approval to run ${step.label}…`;
    case "denied":
      return `Not running ${step.label}: denied`;
    case "expired":
      return `Not running ${step.label}: nobody approved it in time`;
  }
}

/**
 * The text an edited reply shows: each tool step's line in italics, then the answer so far.
 * @param steps - the latest line of each step, in the order the steps started.
 */
export function withStepLines(steps: readonly string[], text: string): string {
  if (steps.length === 0) return text;
  const lines = steps.map((line) => `_${line}_`).join("\n");
  return text ? `${lines}\n\n${text}` : lines;
}

/**
 * Where a job's posted messages are recorded before text is added to them, so a redelivered
 * job finishes its own messages instead of posting new ones (`ReplyLedgerStore` in
 * `core/memory/reply-ledger.ts` on DynamoDB).
 */
export interface ReplyLedger {
  /**
   * The platform ids of the messages an earlier run of `jobId` posted, in order; `[]` when none.
   * @throws the store's error.
   */
  read(jobId: string): Promise<string[]>;
  /**
   * Records every message id of `jobId` so far, in order (replacing the earlier list).
   * @throws the store's error.
   */
  write(jobId: string, messageIds: string[]): Promise<void>;
}

/** What a replier needs to know about the job it opens a live reply for. */
export interface LiveReplyJob {
  /** The chat job's id: the key of its {@link ReplyLedger} entry. */
  jobId: string;
  /** When the person sent the message, epoch ms (Discord's 15-minute token window). */
  sentAt: number;
}

/**
 * A live reply that shows nothing until {@link LiveReply.finish}, then posts once with `post`
 * (the KĀDI relay, `inline` replies).
 * @returns `finish` resolves with what `post` resolves, and rejects with what it throws.
 */
export function bufferedLiveReply(
  post: (text: string) => Promise<{ messageId: string }>,
): LiveReply {
  return { state: "open", append() {}, finish: post };
}
