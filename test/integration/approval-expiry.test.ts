import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  approvalJobId,
  approvalResumeJob,
  scheduleApprovalExpiry,
} from "../../core/chat/approval-jobs";
import { type ChatJob, chatJobSchema } from "../../core/chat/job";
import type { AwsClients } from "../../core/compose/aws";
import { SqsChatQueue } from "../../core/queue/chat-queue";
import { testAws, testConfig } from "../support/aws";

// The resume jobs of a paused turn and the delayed expiry on the fauxqs emulator: the expiry
// job stays invisible for its DelaySeconds, then arrives once.

let aws: AwsClients;
let queueUrl: string;

beforeAll(async () => {
  const setup = await testAws(testConfig(), { queue: `approval-expiry-${Date.now()}` });
  aws = setup.aws;
  queueUrl = setup.config.chatQueueUrl as string;
});

const original: ChatJob = {
  v: 2,
  jobId: "slack:C1:1700000000.000100",
  source: { kind: "slack-events", eventId: "Ev1", teamId: "T1" },
  conversation: { platform: "slack", channelId: "C1", userId: "U-ALICE" },
  text: "run uptime on build",
  sentAt: 1_700_000_000_000,
  reply: {
    platform: "slack",
    via: "direct",
    address: { channel: "C1", threadTs: "1700000000.000100" },
  },
};

async function receive(): Promise<ChatJob[]> {
  const out = await aws.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return (out.Messages ?? []).map((m) => chatJobSchema.parse(JSON.parse(m.Body ?? "null")));
}

describe("approval resume jobs", () => {
  it("builds a click's job from the original job, with the given reply or the original's", () => {
    const approve = approvalResumeJob(JSON.stringify(original), "a1", "approve");
    expect(approve).toMatchObject({
      jobId: "approval:a1",
      source: { kind: "approval", approvalId: "a1", decision: "approve" },
      conversation: original.conversation,
      reply: original.reply,
    });
    const reply = {
      platform: "discord" as const,
      via: "direct" as const,
      address: { applicationId: "1", interactionToken: "tok" },
    };
    expect(approvalResumeJob(JSON.stringify(original), "a1", "deny", { reply }).reply).toEqual(
      reply,
    );
    expect(() => approvalResumeJob("{}", "a1", "deny")).toThrow();
    expect(approvalJobId("a1", "expire", 900)).toBe("approval:a1:expire:900");
  });

  it("holds the expiry job back for its DelaySeconds on fauxqs, then delivers it once", async () => {
    const sink = new SqsChatQueue(aws.sqs, queueUrl);
    const delay = await scheduleApprovalExpiry(sink, JSON.stringify(original), "a2", 1_500);
    expect(delay).toBe(2);
    const sentAt = Date.now();
    expect(await receive()).toEqual([]);
    let jobs: ChatJob[] = [];
    while (jobs.length === 0 && Date.now() - sentAt < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      jobs = await receive();
    }
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_500);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      jobId: "approval:a2:expire:2",
      source: { kind: "approval", approvalId: "a2", decision: "expire" },
    });
  });

  it("caps the delay at SQS's 900 s; the id names the seconds left", async () => {
    const sent: { job: ChatJob; delaySeconds: number }[] = [];
    const sink = {
      enqueue: async (job: ChatJob, o: { delaySeconds: number }) => void sent.push({ job, ...o }),
    };
    expect(await scheduleApprovalExpiry(sink, JSON.stringify(original), "a3", 30 * 60_000)).toBe(
      900,
    );
    expect(sent[0]?.job.jobId).toBe("approval:a3:expire:1800");
  });
});
