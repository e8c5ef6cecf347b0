import type { AddressInfo } from "node:net";
import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApprovalStore } from "../../core/agent/approvals";
import type { ChatJob } from "../../core/chat/job";
import { type AwsClients, memoryTable } from "../../core/compose/aws";
import { buildIngressDeps } from "../../core/compose/ingress";
import type { Config } from "../../core/config";
import { UNAVAILABLE_MESSAGE } from "../../core/platforms/discord/webhook";
import { createApp } from "../../functions/http";
import { pausedLoop } from "../support/approvals";
import { queueDepth, receiveJson, testAws, testConfig } from "../support/aws";
import {
  componentInteraction,
  type DiscordTestKeys,
  discordTestKeys,
  postComponentInteraction,
  postInteraction,
  signInteraction,
  TEST_APPLICATION_ID,
} from "../support/discord";
import { flakyQueue } from "../support/flaky-queue";

// Approve / Deny buttons (message components, interaction type 3) through the real ingress,
// served over HTTP, on DynamoDB Local and fauxqs.

const ALICE = "800000000000000008";
const MALLORY = "800000000000000099";
const CHANNEL = "900000000000000009";

let aws: AwsClients;
let config: Config;
let server: ServerType;
let baseUrl: string;
let store: ApprovalStore;
const keys: DiscordTestKeys = discordTestKeys();

const ORIGINAL: ChatJob = {
  v: 2,
  jobId: "discord-interaction:1300000000000000001",
  source: { kind: "discord-interaction", interactionId: "1300000000000000001" },
  conversation: { platform: "discord", channelId: CHANNEL, userId: ALICE },
  text: "run uptime on build",
  sentAt: 1_700_000_000_000,
  reply: {
    platform: "discord",
    via: "direct",
    address: {
      applicationId: TEST_APPLICATION_ID,
      interactionToken: "ask-token",
      channelId: CHANNEL,
    },
  },
};

const LOOP = pausedLoop({
  model: "gpt-4o",
  pending: { id: "call_1", name: "ssh_execute", input: { host: "build", command: "uptime" } },
  elapsedMs: 700,
});

beforeAll(async () => {
  const setup = await testAws(
    testConfig({
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: TEST_APPLICATION_ID,
    }),
    { queue: `discord-components-${Date.now()}` },
  );
  aws = setup.aws;
  config = setup.config;
  store = new ApprovalStore(memoryTable(config, aws));
  const app = createApp(buildIngressDeps(config, aws));
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: config.chatQueueUrl }));
});

async function pending(expiresInMs = 15 * 60_000): Promise<string> {
  const { approval } = await store.create({
    jobId: ORIGINAL.jobId,
    job: JSON.stringify(ORIGINAL),
    requesterUserId: ALICE,
    platform: "discord",
    toolName: "ssh_execute",
    summary: "ssh_execute on build: uptime",
    loop: LOOP,
    createdAt: Date.now(),
    expiresAt: Date.now() + expiresInMs,
  });
  return approval.approvalId;
}

const press = (customId: string, userId = ALICE, token?: string) =>
  postComponentInteraction(baseUrl, keys, customId, {
    userId,
    content: "Run `uptime` on build?",
    ...(token ? { token } : {}),
  });

const depth = () => queueDepth(aws.sqs, config.chatQueueUrl as string);

function ephemeralText(json: Record<string, unknown>): string | undefined {
  expect(json.type).toBe(4);
  const data = json.data as { content?: string; flags?: number };
  expect(data.flags).toBe(64);
  return data.content;
}

describe("POST /discord/interactions: approval buttons", () => {
  it("settles the buttons, enqueues one resume job answering through the press, and refuses a second press", async () => {
    const id = await pending();
    const first = await press(`tool_approve:${id}`, ALICE, "press-token-1");
    expect(first).toEqual({
      status: 200,
      json: {
        type: 7,
        data: {
          content: `Run \`uptime\` on build?\n\nApproved by <@${ALICE}> — running…`,
          components: [],
          allowed_mentions: { parse: [] },
        },
      },
    });
    const second = await press(`tool_approve:${id}`, ALICE, "press-token-2");
    expect(ephemeralText(second.json)).toBe("This request was already decided (approved).");
    const jobs = (await receiveJson(aws.sqs, config.chatQueueUrl as string)) as ChatJob[];
    expect(jobs).toHaveLength(1);
    // The press's token lives 15 minutes from the press: the job's time is the press's.
    expect(Math.abs((jobs[0]?.sentAt ?? 0) - Date.now())).toBeLessThan(60_000);
    expect(jobs[0]).toMatchObject({
      jobId: `approval:${id}`,
      source: { kind: "approval", approvalId: id, decision: "approve" },
      conversation: ORIGINAL.conversation,
      reply: {
        platform: "discord",
        via: "direct",
        address: {
          applicationId: TEST_APPLICATION_ID,
          interactionToken: "press-token-1",
          channelId: CHANNEL,
        },
      },
    });
  });

  it("of two simultaneous presses one is settled and one job is queued", async () => {
    const id = await pending();
    const results = await Promise.all([press(`tool_approve:${id}`), press(`tool_approve:${id}`)]);
    expect(results.map((r) => r.json.type).sort()).toEqual([4, 7]);
    expect(await depth()).toBe(1);
  });

  it("records a Deny and says who denied", async () => {
    const id = await pending();
    const denied = await press(`tool_deny:${id}`);
    expect((denied.json.data as { content: string }).content).toMatch(
      new RegExp(`Denied by <@${ALICE}>$`),
    );
    const jobs = (await receiveJson(aws.sqs, config.chatQueueUrl as string)) as ChatJob[];
    expect(jobs.map((j) => j.source)).toEqual([
      { kind: "approval", approvalId: id, decision: "deny" },
    ]);
  });

  it("refuses someone other than the requester with an ephemeral answer and queues nothing", async () => {
    const id = await pending();
    const res = await press(`tool_approve:${id}`, MALLORY);
    expect(res.status).toBe(200);
    expect(ephemeralText(res.json)).toBe("Only the person who asked can approve or deny this.");
    expect(await depth()).toBe(0);
    expect((await store.get(id))?.status).toBe("pending");
  });

  it("refuses a press after expiresAt and queues nothing", async () => {
    const id = await pending(-1);
    expect(ephemeralText((await press(`tool_approve:${id}`)).json)).toMatch(/expired/);
    expect(await depth()).toBe(0);
  });

  it("answers 401 to a bad signature and records nothing", async () => {
    const id = await pending();
    const body = JSON.stringify(componentInteraction(`tool_approve:${id}`, { userId: ALICE }));
    const headers = signInteraction(discordTestKeys(), body);
    const res = await fetch(`${baseUrl}/discord/interactions`, { method: "POST", body, headers });
    expect(res.status).toBe(401);
    expect((await store.get(id))?.status).toBe("pending");
  });

  it("answers 400 naming the field for malformed component data; other buttons are not ours", async () => {
    const noCustomId = {
      ...componentInteraction("x", { userId: ALICE }),
      data: { component_type: 2 },
    };
    const missing = await postInteraction(baseUrl, keys, noCustomId);
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatch(/^invalid_component_data: data\.custom_id /);
    const noId = await press("tool_approve:");
    expect(noId).toEqual({
      status: 400,
      json: { error: "invalid_component_data: data.custom_id has no approval id" },
    });
    const other = await press("retry");
    expect(ephemeralText(other.json)).toMatch(/not supported/);
    expect(await depth()).toBe(0);
  });

  it("reopens the decision and apologises when the resume job cannot be queued", async () => {
    const flaky = flakyQueue(1);
    const app = createApp(buildIngressDeps(config, aws, { queue: flaky }));
    const id = await pending();
    const send = async () => {
      const body = JSON.stringify(componentInteraction(`tool_approve:${id}`, { userId: ALICE }));
      const res = await app.request("/discord/interactions", {
        method: "POST",
        body,
        headers: signInteraction(keys, body),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    expect(ephemeralText(await send())).toBe(UNAVAILABLE_MESSAGE);
    expect((await store.get(id))?.status).toBe("pending");
    expect((await send()).type).toBe(7);
    expect(flaky.accepted.map((j) => j.jobId)).toEqual([`approval:${id}`]);
  });
});
