import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAwsClients } from "../../core/compose/aws";
import { ConversationStore } from "../../core/memory/conversations";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord";
import type { RecordedRequest } from "../fakes/http-fake";
import { type FakeKadiBroker, startFakeKadiBroker } from "../fakes/kadi-broker";
import { type LlmReply, lastToolResult } from "../fakes/llm-tools";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
import {
  askInteraction,
  componentInteraction,
  type DiscordTestKeys,
  discordTestKeys,
  postComponentInteraction,
  postInteraction,
} from "../support/discord";
import {
  answers,
  appMentionEnvelope,
  blockActionsPayload,
  signedHeaders,
  signedInteraction,
  TEST_SIGNING_SECRET,
} from "../support/slack";
import { waitFor } from "../support/wait";

/**
 * The agent acts (docs/architecture.md, "The agent turn"), end to end on the local stack: signed
 * Slack events and Discord interactions in, the Anthropic fake scripted to call tools, the KĀDI
 * broker fake serving the template's file abilities, the Slack and Discord fakes showing what
 * the person sees, clicks on Approve / Deny signed like the platforms sign them.
 */

const BOT = "UBOTAGENT";
const APP = "1400000000000000031";
const DISCORD_CHANNEL = "1410000000000000031";
const SECRET_PASSWORD = "hunter2-correct-horse-battery";
let anthropic: FakeAnthropic;
let slack: FakeSlack;
let discord: FakeDiscord;
let broker: FakeKadiBroker;
let stack: LocalStack;
let conversations: ConversationStore;
const keys: DiscordTestKeys = discordTestKeys();
const logged: string[] = [];

/** The person's own words in a request: the last user message with text content. */
function question(req: RecordedRequest): string {
  const messages = (req.body.messages ?? []) as { role: string; content: unknown }[];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === "user" && typeof m.content === "string") return m.content;
  }
  return "";
}

/** The model: decides from the question and from the tool results sent back. */
function model(req: RecordedRequest): LlmReply {
  const ask = question(req);
  const result = lastToolResult(req);
  const parsed = result ? (JSON.parse(result.content) as Record<string, unknown>) : undefined;
  if (/where did you put/i.test(ask)) {
    // Only the stored record of the call holds the path as JSON; the answer text has it too,
    // but not in this form.
    const messages = (req.body.messages ?? []) as { content: unknown }[];
    const texts = messages.map((m) => (typeof m.content === "string" ? m.content : "")).join("\n");
    const path = /"remotePath":"([^"]+)"/.exec(texts)?.[1];
    return path ? `It is in Dropbox at ${path}.` : "I don't know.";
  }
  if (/download link/i.test(ask)) {
    if (!result) {
      return {
        text: "Making a link.",
        toolCalls: [
          {
            name: "local_remote_create_temporary_url",
            input: { filePath: "/srv/build.tar", expiresIn: "1h", password: SECRET_PASSWORD },
          },
        ],
      };
    }
    return result.isError
      ? `The link could not be made: ${result.content}`
      : `Here is your link: ${String(parsed?.publicUrl)}`;
  }
  if (/upload/i.test(ask)) {
    if (!result) {
      return {
        toolCalls: [
          {
            name: "cloud_upload_file",
            input: {
              serviceName: "dropbox",
              localPath: "/srv/report.pdf",
              remotePath: "/reports/q3-report.pdf",
            },
          },
        ],
      };
    }
    const uploaded = (parsed?.result as { remotePath?: string } | undefined)?.remotePath;
    return `Uploaded to Dropbox at ${uploaded ?? "?"}.`;
  }
  if (/uptime/i.test(ask)) {
    if (!result) {
      return {
        text: "I'll check.",
        toolCalls: [
          {
            name: "execute_remote_command",
            input: { username: "deploy", host: "build-1", command: "uptime" },
          },
        ],
      };
    }
    return result.isError
      ? `It did not run: ${result.content}`
      : `Output: ${String(parsed?.stdout ?? "?").trim()}`;
  }
  if (/fetch the logs/i.test(ask)) {
    if (!result) {
      return {
        toolCalls: [
          {
            name: "cloud_download_file",
            input: { serviceName: "box", remotePath: "/logs/app.log", localPath: "/tmp/app.log" },
          },
        ],
      };
    }
    return result.isError ? `The download failed: ${result.content}` : "Downloaded.";
  }
  if (/keep listing/i.test(ask)) {
    if (req.body.tool_choice && (req.body.tool_choice as { type?: string }).type === "none") {
      return "Stopping here with what I found.";
    }
    return { toolCalls: [{ name: "cloud_list_files", input: { serviceName: "dropbox" } }] };
  }
  return "Plain answer.";
}

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-agent" });
  slack = await startFakeSlack({ token: "xoxb-agent", botUserId: BOT });
  discord = await startFakeDiscord({ applicationId: APP, channelId: DISCORD_CHANNEL });
  broker = await startFakeKadiBroker({ fileAbilities: true });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-agent",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-agent",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: APP,
      DISCORD_API_URL: discord.url,
      KADI_BROKER_URL: broker.url,
      KADI_NETWORKS: "global",
      AGENT_MAX_ROUNDS: "3",
      // An ability that never answers is given up on when the turn's budget runs out.
      AGENT_BUDGET_MS: "6000",
      LOG_LEVEL: "INFO",
      PORT: "0",
    }),
    { queue: `e2e-agent-${Date.now()}` },
  );
  conversations = new ConversationStore({
    client: createAwsClients(setup.config, LOCAL_CREDENTIALS).documents,
    tableName: setup.config.memoryTableName,
  });
  // The stack runs in this process: its log lines (INFO on stdout, WARN and ERROR on stderr)
  // are what the audit test reads, kept out of the test output.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, "write").mockImplementation((chunk, ...rest) => {
      const text = String(chunk);
      if (text.startsWith('{"level"')) {
        logged.push(text);
        return true;
      }
      return write(chunk as string, ...(rest as []));
    });
  }
  stack = await startLocalStack(setup.config);
  anthropic.setReply(model);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), slack?.close(), discord?.close(), broker?.close()]);
  vi.restoreAllMocks();
});

beforeEach(() => {
  slack.reset();
  discord.reset();
  for (const name of ["execute_remote_command", "cloud_download_file"]) {
    broker.scriptAbility(name, undefined);
  }
});

let events = 0;
/** A mention in its own thread; resolves with the thread's ts. */
async function mention(text: string, channel = "C0AGENT", user = "U0ALICE"): Promise<string> {
  events++;
  const envelope = appMentionEnvelope({
    eventId: `Ev-agent-${events}-${Date.now()}`,
    text,
    botUserId: BOT,
    channel,
    user,
  });
  const body = JSON.stringify(envelope);
  const res = await fetch(`${stack.url}/slack/events`, {
    method: "POST",
    body,
    headers: signedHeaders(body),
  });
  expect(res.status).toBe(200);
  return (envelope.event as { ts: string }).ts;
}

/** The finished bot answers in a thread, oldest first, once `done` holds for them. */
function threadAnswers(channel: string, threadTs: string) {
  return answers(slack).filter((a) => a.channel === channel && a.thread_ts === threadTs);
}

async function answerMatching(channel: string, threadTs: string, pattern: RegExp) {
  return waitFor(() => threadAnswers(channel, threadTs).find((a) => pattern.test(a.text)), 30_000);
}

/** Clicks a button of the approval message in `channel` as `user`, signed like Slack. */
async function click(
  approvalId: string,
  actionId: "tool_approve" | "tool_deny",
  user = "U0ALICE",
  channel = "C0AGENT",
) {
  const { body, headers } = signedInteraction(
    blockActionsPayload({
      actionId,
      value: approvalId,
      user,
      channel,
      responseUrl: slack.responseUrl(),
    }),
  );
  const res = await fetch(`${stack.url}/slack/interactions`, { method: "POST", body, headers });
  return res.status;
}

/** The Approve / Deny message in `channel`: its approval id (the buttons' value). */
async function approvalPrompt(channel: string) {
  return waitFor(() => {
    for (const m of slack.messages({ channel })) {
      const json = JSON.stringify(m.blocks ?? []);
      const id = /"action_id":"tool_approve"[^}]*"value":"([^"]+)"/.exec(json)?.[1];
      if (id) return { id, message: m };
    }
    return undefined;
  }, 30_000);
}

describe("the agent acts (Slack)", () => {
  it("calls the file-server ability through the broker and answers with the link", async () => {
    const before = broker.abilityCalls("local_remote_create_temporary_url").length;
    const ts = await mention("share build.tar from my server as a download link for 1 hour");
    const answer = await answerMatching("C0AGENT", ts, /Here is your link: https:\/\//);
    const calls = broker.abilityCalls("local_remote_create_temporary_url");
    expect(calls.length).toBe(before + 1);
    expect(calls.at(-1)?.input).toMatchObject({ filePath: "/srv/build.tar", expiresIn: "1h" });
    // The broker got the remaining budget as its timeout.
    expect(calls.at(-1)?.timeout ?? 0).toBeGreaterThan(1_000);
    const url = /https:\/\/\S+/.exec(answer.text)?.[0] ?? "";
    expect(url).toContain("loca.lt");
    expect(answer.text.startsWith("Making a link.")).toBe(true);
    // The progress of the call was shown as a task in the stream.
    const tasks = slack
      .callsTo(["chat.startStream", "chat.appendStream", "chat.stopStream"])
      .flatMap((c) => (c.args.chunks as { type: string; status?: string }[]) ?? [])
      .filter((c) => c.type === "task_update" && c.status === "complete");
    expect(tasks.length).toBeGreaterThan(0);
  });

  it("never writes the call's secret values to the audit log or to memory", async () => {
    await waitFor(() => logged.some((l) => l.includes('"tool call"')), 30_000);
    const audit = logged.filter((l) => l.includes('"tool call"'));
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.join("")).toContain("local_remote_create_temporary_url");
    expect(logged.join("")).not.toContain(SECRET_PASSWORD);
    const ref = { platform: "slack", channelId: "C0AGENT", userId: "U0ALICE" } as const;
    // The turn is stored once the answer is shown.
    const stored = await waitFor(async () => {
      const messages = await conversations.recent(ref, 50);
      return messages.some((m) => m.actions?.length) ? messages : undefined;
    }, 30_000);
    const action = stored.flatMap((m) => m.actions ?? [])[0];
    expect(action).toMatchObject({ tool: "local_remote_create_temporary_url", outcome: "ok" });
    expect(action?.input).toContain("[redacted]");
    expect(JSON.stringify(stored)).not.toContain(SECRET_PASSWORD);
  });

  it("uploads to cloud storage, reports the remote path, and answers a follow-up from memory", async () => {
    const ts = await mention("upload report.pdf to dropbox", "C0UPLOAD");
    const answer = await answerMatching("C0UPLOAD", ts, /Uploaded to Dropbox/);
    expect(answer.text).toContain("/reports/q3-report.pdf");
    const later = await mention("where did you put it?", "C0UPLOAD");
    const follow = await answerMatching("C0UPLOAD", later, /It is in Dropbox|don't know/);
    expect(follow.text).toBe("It is in Dropbox at /reports/q3-report.pdf.");
    // The follow-up was answered from the stored call, not from a new one.
    expect(broker.abilityCalls("cloud_upload_file").length).toBe(1);
  });

  it("waits for Approve before an SSH execute, and runs it once after a double click", async () => {
    const ts = await mention("what is the uptime of build-1?", "C0EXEC");
    const prompt = await approvalPrompt("C0EXEC");
    await answerMatching("C0EXEC", ts, /I need your approval to run/);
    expect(broker.abilityCalls("execute_remote_command")).toHaveLength(0);
    // Someone else cannot approve it.
    expect(await click(prompt.id, "tool_approve", "U0MALLORY", "C0EXEC")).toBe(200);
    expect(await click(prompt.id, "tool_approve", "U0ALICE", "C0EXEC")).toBe(200);
    expect(await click(prompt.id, "tool_approve", "U0ALICE", "C0EXEC")).toBe(200);
    const output = await answerMatching("C0EXEC", ts, /^Output:/);
    expect(output.text).toContain("Output: ran: uptime");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(broker.abilityCalls("execute_remote_command")).toHaveLength(1);
    expect(threadAnswers("C0EXEC", ts).filter((a) => /^Output:/.test(a.text))).toHaveLength(1);
    // The buttons were replaced by who decided.
    const settled = slack.messages({ channel: "C0EXEC" }).find((m) => m.ts === prompt.message.ts);
    expect(settled?.text).toBe("Approved by <@U0ALICE>: running **SSH command**.");
    expect(settled?.blocks ?? []).toEqual([]);
  });

  it("tells the model a denied call was refused, and runs nothing", async () => {
    const ts = await mention("what is the uptime of build-2?", "C0DENY");
    const prompt = await approvalPrompt("C0DENY");
    expect(await click(prompt.id, "tool_deny", "U0ALICE", "C0DENY")).toBe(200);
    const answer = await answerMatching("C0DENY", ts, /^It did not run/);
    expect(answer.text).toContain("denied");
    expect(broker.abilityCalls("execute_remote_command")).toHaveLength(1);
  });

  it("reports an ability that times out to the model, and the person still gets an answer", async () => {
    broker.scriptAbility("cloud_download_file", { kind: "timeout" });
    const ts = await mention("fetch the logs from box", "C0TIMEOUT");
    const answer = await answerMatching("C0TIMEOUT", ts, /The download failed/);
    expect(answer.text).toContain("timeout");
  });

  it("stops at its round bound and asks the model for a final answer without tools", async () => {
    const before = broker.abilityCalls("cloud_list_files").length;
    const ts = await mention("keep listing my dropbox files", "C0BOUND");
    const answer = await answerMatching("C0BOUND", ts, /Stopping here/);
    expect(answer.text).toContain("Stopping here with what I found.");
    expect(broker.abilityCalls("cloud_list_files").length - before).toBe(3);
  });
});

describe("the agent acts (Discord)", () => {
  it("uploads through the broker from /ask and edits the answer in", async () => {
    const interaction = askInteraction("upload the report to dropbox", {
      applicationId: APP,
      channelId: DISCORD_CHANNEL,
      userId: "300000000000000031",
    });
    const { status } = await postInteraction(stack.url, keys, interaction);
    expect(status).toBe(200);
    const token = interaction.token as string;
    const original = await waitFor(
      () => discord.messages(token).find((m) => /Uploaded to Dropbox/.test(m.content)),
      30_000,
    );
    expect(original.content).toContain("/reports/q3-report.pdf");
    expect(original.content).toMatch(/Running cloud upload… done/);
  });

  it("asks with buttons for an SSH execute and runs it once after Approve", async () => {
    const before = broker.abilityCalls("execute_remote_command").length;
    const user = "300000000000000032";
    const interaction = askInteraction("uptime of build-3 please", {
      applicationId: APP,
      channelId: DISCORD_CHANNEL,
      userId: user,
    });
    await postInteraction(stack.url, keys, interaction);
    const token = interaction.token as string;
    const prompt = await waitFor(
      () =>
        discord.messages(token).find((m) => JSON.stringify(m.components).includes("tool_approve:")),
      30_000,
    );
    const customId = /"(tool_approve:[^"]+)"/.exec(JSON.stringify(prompt.components))?.[1] ?? "";
    const context = { applicationId: APP, channelId: DISCORD_CHANNEL };
    const other = await postComponentInteraction(stack.url, keys, customId, {
      ...context,
      userId: "300000000000000099",
    });
    expect((other.json.data as { flags?: number }).flags).toBe(64);
    const press = componentInteraction(customId, { ...context, userId: user });
    const first = await postInteraction(stack.url, keys, press);
    expect(first.json.type).toBe(7);
    const again = await postComponentInteraction(stack.url, keys, customId, {
      ...context,
      userId: user,
    });
    expect((again.json.data as { flags?: number }).flags).toBe(64);
    const answer = await waitFor(
      () => discord.messages(press.token as string).find((m) => /^Output:/m.test(m.content)),
      30_000,
    );
    expect(answer.content).toContain("Output: ran: uptime");
    expect(broker.abilityCalls("execute_remote_command").length - before).toBe(1);
  });
});

describe("the agent acts without its broker", () => {
  it("reports a broker that is down to the model, and the person still gets an answer", async () => {
    await broker.stop();
    try {
      const ts = await mention("a download link for build.tar please", "C0DOWN");
      const answer = await answerMatching("C0DOWN", ts, /could not be made/);
      expect(answer.text).toMatch(/unavailable|timeout/);
    } finally {
      await broker.restart();
    }
  });
});
