import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../core/agent/approvals";
import type { ChatJob } from "../../core/chat/job";
import { type AwsClients, memoryTable } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import { createApp } from "../../functions/http";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { pausedLoop } from "../support/approvals";
import { queueDepth, receiveJson, testAws, testConfig } from "../support/aws";
import { flakyQueue } from "../support/flaky-queue";
import {
  blockActionsPayload,
  signedForm,
  signedInteraction,
  TEST_SIGNING_SECRET,
} from "../support/slack";

// Approve / Deny buttons through the real ingress (signed form POSTs, Hono app) on DynamoDB
// Local and fauxqs: a decision enqueues the resume job exactly once, refusals are told to the
// clicker through the fake Slack's response URL.

let aws: AwsClients;
let config: Config;
let slack: FakeSlack;
let app: ReturnType<typeof createApp>;
let store: ApprovalStore;

const ORIGINAL: ChatJob = {
  v: 2,
  jobId: "slack:C0CHAN:1700000000.000100",
  source: { kind: "slack-events", eventId: "Ev1", teamId: "T0TEST" },
  conversation: { platform: "slack", channelId: "C0CHAN", userId: "U0ALICE" },
  text: "run uptime on build",
  sentAt: 1_700_000_000_000,
  reply: {
    platform: "slack",
    via: "direct",
    address: { channel: "C0CHAN", threadTs: "1700000000.000100" },
  },
};

const LOOP = pausedLoop();

beforeAll(async () => {
  slack = await startFakeSlack({ token: "xoxb-interactions" });
  const setup = await testAws(testConfig({ SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET }), {
    queue: `slack-interactions-${Date.now()}`,
  });
  aws = setup.aws;
  config = setup.config;
  app = createApp(buildIngressDeps(config, aws));
  store = new ApprovalStore(memoryTable(config, aws));
});

afterAll(async () => {
  await slack.close();
});

beforeEach(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
  slack.reset();
});

async function pending(expiresInMs = 15 * 60_000): Promise<string> {
  const { approval } = await store.create({
    jobId: ORIGINAL.jobId,
    job: JSON.stringify(ORIGINAL),
    requesterUserId: "U0ALICE",
    platform: "slack",
    toolName: "ssh_execute",
    summary: "ssh_execute on build: uptime",
    loop: LOOP,
    createdAt: Date.now(),
    expiresAt: Date.now() + expiresInMs,
  });
  return approval.approvalId;
}

async function click(
  payload: Record<string, unknown>,
  options: { secret?: string; target?: ReturnType<typeof createApp> } = {},
) {
  const { body, headers } = signedInteraction(payload, options);
  const res = await (options.target ?? app).request("/slack/interactions", {
    method: "POST",
    body,
    headers,
  });
  return { status: res.status, text: await res.text() };
}

const approve = (approvalId: string, user = "U0ALICE") =>
  blockActionsPayload({
    actionId: "tool_approve",
    value: approvalId,
    user,
    responseUrl: slack.responseUrl(),
  });

const depth = () => queueDepth(aws.sqs, config.chatQueueUrl as string);

describe("POST /slack/interactions", () => {
  it("enqueues the resume job once for a double click and tells the second click it was decided", async () => {
    const id = await pending();
    const first = await click(approve(id));
    const second = await click(approve(id));
    expect(first).toEqual({ status: 200, text: "" });
    expect(second).toEqual({ status: 200, text: "" });
    const jobs = (await receiveJson(aws.sqs, config.chatQueueUrl as string)) as ChatJob[];
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      jobId: `approval:${id}`,
      source: { kind: "approval", approvalId: id, decision: "approve" },
      conversation: ORIGINAL.conversation,
      reply: ORIGINAL.reply,
    });
    expect(slack.responses().map((r) => r.body)).toEqual([
      {
        response_type: "ephemeral",
        replace_original: false,
        text: "This request was already decided (approved).",
      },
    ]);
    expect((await store.get(id))?.status).toBe("approved");
  });

  it("of two simultaneous clicks one decides and one resume job is queued", async () => {
    const id = await pending();
    const results = await Promise.all([click(approve(id)), click(approve(id))]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(await depth()).toBe(1);
    expect(slack.responses()).toHaveLength(1);
  });

  it("queues a Deny as the deny decision", async () => {
    const id = await pending();
    const payload = blockActionsPayload({ actionId: "tool_deny", value: id, user: "U0ALICE" });
    expect((await click(payload)).status).toBe(200);
    const jobs = (await receiveJson(aws.sqs, config.chatQueueUrl as string)) as ChatJob[];
    expect(jobs.map((j) => j.source)).toEqual([
      { kind: "approval", approvalId: id, decision: "deny" },
    ]);
  });

  it("refuses someone other than the requester, tells only them, and queues nothing", async () => {
    const id = await pending();
    const payload = approve(id, "U0MALLORY");
    expect(await click(payload)).toEqual({ status: 200, text: "" });
    expect(await depth()).toBe(0);
    expect(slack.responses()).toEqual([
      {
        url: payload.response_url,
        body: {
          response_type: "ephemeral",
          replace_original: false,
          text: "Only the person who asked can approve or deny this.",
        },
      },
    ]);
    expect((await store.get(id))?.status).toBe("pending");
  });

  it("refuses a click after expiresAt and queues nothing", async () => {
    const id = await pending(-1);
    expect((await click(approve(id))).status).toBe(200);
    expect(await depth()).toBe(0);
    expect(slack.responses()[0]?.body.text).toMatch(/expired/);
  });

  it("answers 401 to a bad signature and records nothing", async () => {
    const id = await pending();
    expect((await click(approve(id), { secret: "not-the-secret" })).status).toBe(401);
    expect(await depth()).toBe(0);
    expect((await store.get(id))?.status).toBe("pending");
  });

  it("answers 400 naming the field for a malformed interaction", async () => {
    const form = (body: string) =>
      app.request("/slack/interactions", { method: "POST", ...signedForm(body) });
    const withoutField = await form("nothing=here");
    expect(withoutField.status).toBe(400);
    expect(await withoutField.json()).toEqual({ error: "invalid_interaction: payload missing" });
    const notJson = await form("payload=%7Bnot-json");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: "invalid_interaction: payload is not JSON" });
    const noUser = await click({
      type: "block_actions",
      actions: [{ action_id: "tool_approve", value: "x" }],
    });
    expect(noUser.status).toBe(400);
    expect(JSON.parse(noUser.text)).toEqual({
      error: "invalid_interaction: user Invalid input: expected object, received undefined",
    });
    const noValue = await click({
      ...approve("x"),
      actions: [{ type: "button", action_id: "tool_approve" }],
    });
    expect(noValue.status).toBe(400);
    expect(JSON.parse(noValue.text)).toEqual({
      error: "invalid_interaction: actions.0.value missing",
    });
    expect(await depth()).toBe(0);
  });

  it("acks other interaction types and other buttons without doing anything", async () => {
    const id = await pending();
    expect(await click({ type: "view_submission", user: { id: "U0ALICE" }, view: {} })).toEqual({
      status: 200,
      text: "",
    });
    expect(await click({ type: "shortcut", callback_id: "x" })).toEqual({ status: 200, text: "" });
    const other = blockActionsPayload({ actionId: "something_else", value: id, user: "U0ALICE" });
    expect(await click(other)).toEqual({ status: 200, text: "" });
    expect(await depth()).toBe(0);
    expect((await store.get(id))?.status).toBe("pending");
  });

  it("reopens the decision and tells the clicker when the resume job cannot be queued", async () => {
    const flaky = flakyQueue(1);
    const flakyApp = createApp(buildIngressDeps(config, aws, { queue: flaky }));
    const id = await pending();
    expect((await click(approve(id), { target: flakyApp })).status).toBe(200);
    expect((await store.get(id))?.status).toBe("pending");
    expect(slack.responses()[0]?.body.text).toMatch(/try again/);
    expect((await click(approve(id), { target: flakyApp })).status).toBe(200);
    expect(flaky.accepted.map((j) => j.jobId)).toEqual([`approval:${id}`]);
  });
});
