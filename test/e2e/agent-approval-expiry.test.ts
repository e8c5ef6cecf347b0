import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import type { RecordedRequest } from "../fakes/http-fake";
import { type FakeKadiBroker, startFakeKadiBroker } from "../fakes/kadi-broker";
import { type LlmReply, lastToolResult } from "../fakes/llm-tools";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { testAws, testConfig } from "../support/aws";
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
 * A tool call nobody decides on (docs/architecture.md, "The agent turn"), on the local stack
 * with a 1.5-second `TOOL_APPROVAL_TTL_MS`: the delayed expiry job replaces the buttons with a
 * note, the model is told the call expired, nothing runs, and a click after that is refused.
 */

const BOT = "UBOTEXPIRY";
let anthropic: FakeAnthropic;
let slack: FakeSlack;
let broker: FakeKadiBroker;
let stack: LocalStack;

function model(req: RecordedRequest): LlmReply {
  const result = lastToolResult(req);
  if (!result) {
    return {
      text: "Checking.",
      toolCalls: [
        {
          name: "execute_remote_command",
          input: { username: "deploy", host: "build-9", command: "uptime" },
        },
      ],
    };
  }
  return result.isError ? `Not run: ${result.content}` : "Ran it.";
}

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: "sk-ant-expiry" });
  anthropic.setReply(model);
  slack = await startFakeSlack({ token: "xoxb-expiry", botUserId: BOT });
  broker = await startFakeKadiBroker({ fileAbilities: true });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-expiry",
      ANTHROPIC_BASE_URL: anthropic.url,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_BOT_TOKEN: "xoxb-expiry",
      SLACK_BOT_USER_ID: BOT,
      SLACK_API_URL: slack.url,
      KADI_BROKER_URL: broker.url,
      TOOL_APPROVAL_TTL_MS: "1500",
      PORT: "0",
    }),
    { queue: `e2e-expiry-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropic?.close(), slack?.close(), broker?.close()]);
});

describe("an approval nobody gives", () => {
  it("expires: the buttons become a note, the model is told, nothing runs, a late click is refused", async () => {
    const envelope = appMentionEnvelope({
      eventId: `Ev-expiry-${Date.now()}`,
      text: "uptime of build-9?",
      botUserId: BOT,
      channel: "C0EXPIRY",
    });
    const ts = (envelope.event as { ts: string }).ts;
    const body = JSON.stringify(envelope);
    const res = await fetch(`${stack.url}/slack/events`, {
      method: "POST",
      body,
      headers: signedHeaders(body),
    });
    expect(res.status).toBe(200);
    const prompt = await waitFor(
      () =>
        slack
          .messages({ channel: "C0EXPIRY" })
          .find((m) => JSON.stringify(m.blocks ?? []).includes("tool_approve")),
      20_000,
    );
    const approvalId = /"value":"([^"]+)"/.exec(JSON.stringify(prompt.blocks))?.[1] ?? "";
    const answer = await waitFor(
      () =>
        answers(slack).find(
          (a) => a.channel === "C0EXPIRY" && a.thread_ts === ts && a.text.startsWith("Not run"),
        ),
      20_000,
    );
    expect(answer.text).toContain("expired");
    const settled = slack.messages({ channel: "C0EXPIRY" }).find((m) => m.ts === prompt.ts);
    expect(settled?.text).toContain("Nobody approved running");
    expect(settled?.blocks ?? []).toEqual([]);
    expect(broker.abilityCalls("execute_remote_command")).toHaveLength(0);

    const responseUrl = slack.responseUrl();
    const late = signedInteraction(
      blockActionsPayload({
        actionId: "tool_approve",
        value: approvalId,
        user: "U0USER",
        channel: "C0EXPIRY",
        responseUrl,
      }),
    );
    const click = await fetch(`${stack.url}/slack/interactions`, { method: "POST", ...late });
    expect(click.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(broker.abilityCalls("execute_remote_command")).toHaveLength(0);
  });
});
