import { beforeAll, describe, expect, it } from "vitest";
import type { AccessLists } from "../../core/chat/access";
import { type AccessGateDeps, gateByAccess } from "../../core/chat/access-gate";
import type { ChatJob, ReplyTarget } from "../../core/chat/job";
import type { Replier } from "../../core/chat/replier";
import { ACCESS_REFUSAL_INTERVAL_MS } from "../../core/constants/timings";
import { createLogger } from "../../core/logger";
import { DedupeStore } from "../../core/memory/dedupe";
import type { TableOptions } from "../../core/memory/table/table";
import { bufferedLiveReply } from "../../core/reply/live-reply";
import { testAws, testConfig } from "../support/aws";

/** The worker's gate with its refusal marks in DynamoDB Local and a clock the test moves. */

const never = () => Promise.reject(new Error("the table must not be used"));

const logger = createLogger("access-gate-test", "SILENT");
let table: TableOptions;
let nowMs = 1_700_000_000_000;
let posts: { target: ReplyTarget; text: string }[] = [];
let failPosts = 0;
let runs: string[] = [];

const replier: Replier = {
  async post(target, text) {
    if (failPosts > 0) {
      failPosts--;
      throw new Error("slack is down");
    }
    posts.push({ target, text });
    return { messageId: `m${posts.length}` };
  },
  async open(target) {
    return bufferedLiveReply((text) => this.post(target, text));
  },
};

beforeAll(async () => {
  const { aws, config } = await testAws(testConfig());
  table = { client: aws.documents, tableName: config.memoryTableName };
});

function gate(lists: AccessLists) {
  posts = [];
  runs = [];
  const deps: AccessGateDeps = {
    lists,
    marks: new DedupeStore({ ...table, now: () => nowMs }),
    replier,
    logger,
  };
  return gateByAccess(deps, async (job: ChatJob) => {
    runs.push(job.jobId);
    return "answered" as const;
  });
}

let counter = 0;
function job(overrides: Partial<Pick<ChatJob, "source" | "conversation">> = {}): ChatJob {
  counter++;
  return {
    v: 2,
    jobId: `job-${counter}`,
    source: { kind: "slack-events", eventId: `Ev${counter}`, teamId: "T1" },
    conversation: { platform: "slack", channelId: "C1", userId: `U-gate-${counter}` },
    text: "hi",
    sentAt: nowMs,
    reply: { platform: "slack", via: "direct", address: { channel: "C1" } },
    ...overrides,
  };
}

describe("gateByAccess (DynamoDB Local)", () => {
  it("tells someone left out again only once the hour has passed", async () => {
    const run = gate({ users: ["U-allowed"] });
    const mallory = job().conversation;
    const again = () => run(job({ conversation: mallory }));

    expect(await again()).toEqual({ outcome: "refused", missingFrom: "user", told: true });
    nowMs += ACCESS_REFUSAL_INTERVAL_MS - 1_000;
    expect(await again()).toMatchObject({ told: false });
    nowMs += 2_000;
    expect(await again()).toMatchObject({ told: true });
    expect(posts).toHaveLength(2);
    expect(posts[0]?.text).toContain(`add you (${mallory.userId}) to ALLOWED_USERS`);
    expect(runs).toEqual([]);
  });

  it("releases the mark when the refusal cannot be posted, so the retry tells them", async () => {
    const run = gate({ users: ["U-allowed"] });
    const eve = job();
    failPosts = 1;
    await expect(run(eve)).rejects.toThrow("slack is down");
    expect(await run(eve)).toMatchObject({ outcome: "refused", told: true });
    expect(posts).toHaveLength(1);
  });

  it("runs admitted jobs, and jobs of the chat tool whatever the lists say", async () => {
    const run = gate({ users: ["U-allowed"], channels: ["C-allowed"] });
    const admitted = job({
      conversation: { platform: "slack", channelId: "C-allowed", userId: "U-allowed" },
    });
    expect(await run(admitted)).toBe("answered");
    const tool = job({ source: { kind: "kadi-tool" } });
    expect(await run(tool)).toBe("answered");
    expect(runs).toEqual([admitted.jobId, tool.jobId]);
    expect(posts).toEqual([]);
  });

  it("a relayed Slack mention (no team) passes ALLOWED_SLACK_TEAMS only in a listed channel", async () => {
    const run = gate({ slackTeams: ["T1"], channels: ["C-listed"] });
    const relayed = (channelId: string) =>
      job({
        source: { kind: "kadi-event", eventId: `E${counter}`, channel: "slack.app_mention.UB" },
        conversation: { platform: "slack", channelId, userId: "U-relayed" },
      });
    expect(await run(relayed("C-listed"))).toBe("answered");
    expect(await run(relayed("C-other"))).toMatchObject({ missingFrom: "channel", told: true });
    expect(posts[0]?.text).toContain("add it (C-other) to ALLOWED_CHANNELS");
    // With no channel list, nothing admits a message whose workspace is unknown.
    const teamsOnly = gate({ slackTeams: ["T1"] });
    expect(await teamsOnly(relayed("C-listed"))).toMatchObject({ missingFrom: "channel" });
    // A Discord job is not held to the Slack team list.
    const discord = job({
      source: { kind: "discord-interaction", interactionId: "1" },
      conversation: { platform: "discord", channelId: "123456789012345678", userId: "u" },
    });
    expect(await teamsOnly(discord)).toBe("answered");
  });

  it("with no list configured runs every job without touching the table", async () => {
    const run = gateByAccess(
      { lists: {}, marks: { claim: never, release: never }, replier, logger },
      async () => "answered",
    );
    expect(await run(job())).toBe("answered");
  });
});
