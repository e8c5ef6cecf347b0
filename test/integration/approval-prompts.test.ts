import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ReplyTarget } from "../../core/chat/job";
import {
  type ApprovalPrompt,
  createReplyRouter,
  PlatformNotConfiguredError,
  type Replier,
} from "../../core/chat/replier";
import { DiscordInteractionReplier } from "../../core/platforms/discord/replier";
import { SlackReplier } from "../../core/platforms/slack/replier";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord";
import { type FakeSlack, startFakeSlack } from "../fakes/slack";
import { inMemoryLedger } from "../support/ledger";
import { rejection } from "../support/rejection";

// The Approve / Deny buttons the repliers post and settle, on the wire-level fakes (Slack
// through the official @slack/web-api client), through the reply router.

const APP = "1200000000000000001";
let slack: FakeSlack;
let discord: FakeDiscord;
let router: Required<Replier>;

const prompt: ApprovalPrompt = {
  approvalId: "a-123",
  requesterUserId: "U0ALICE",
  toolName: "ssh_execute",
  summary: "ssh_execute on build: uptime",
  expiresAt: 1_800_000_900_000,
};

const slackTarget: ReplyTarget = {
  platform: "slack",
  via: "direct",
  address: { channel: "C0APPR", threadTs: "1700000000.000100" },
};
const discordTarget: ReplyTarget = {
  platform: "discord",
  via: "direct",
  address: { applicationId: APP, interactionToken: "ask-token" },
};

beforeAll(async () => {
  slack = await startFakeSlack({ token: "xoxb-appr" });
  discord = await startFakeDiscord({ applicationId: APP });
  const warn = () => undefined;
  const relay: Replier = {
    post: async () => ({ messageId: "relayed" }),
    open: async () => {
      throw new Error("not used");
    },
  };
  router = createReplyRouter({
    direct: {
      slack: new SlackReplier({
        botToken: slack.token,
        apiUrl: slack.url,
        ledger: inMemoryLedger(),
        warn,
      }),
      discord: new DiscordInteractionReplier(
        { apiUrl: discord.url },
        { ledger: inMemoryLedger(), warn },
      ),
    },
    kadi: relay,
  }) as Required<Replier>; // the router has every optional method
});
afterAll(async () => {
  await slack.close();
  await discord.close();
});
beforeEach(() => {
  slack.reset();
  discord.reset();
});

describe("approval buttons through the reply router", () => {
  it("offers buttons on direct Slack and Discord replies only", () => {
    expect(router.canAskApproval(slackTarget)).toBe(true);
    expect(router.canAskApproval(discordTarget)).toBe(true);
    expect(router.canAskApproval({ ...slackTarget, via: "kadi" })).toBe(false);
    expect(router.canAskApproval({ platform: "slack", via: "inline", address: {} })).toBe(false);
  });

  it("posts Slack buttons in the thread with the approval id, then settles them to text", async () => {
    const { messageId } = await router.askApproval(slackTarget, prompt);
    const posted = slack.posted()[0];
    expect(posted).toMatchObject({
      channel: "C0APPR",
      thread_ts: "1700000000.000100",
      text: "Approve ssh_execute? ssh_execute on build: uptime",
    });
    const actions = ((posted?.blocks ?? []) as { type: string; elements?: unknown[] }[]).find(
      (b) => b.type === "actions",
    );
    expect(actions?.elements).toEqual([
      expect.objectContaining({
        type: "button",
        action_id: "tool_approve",
        value: "a-123",
        style: "primary",
      }),
      expect.objectContaining({
        type: "button",
        action_id: "tool_deny",
        value: "a-123",
        style: "danger",
      }),
    ]);
    await router.settleApproval(slackTarget, messageId, "Approved by <@U0ALICE>");
    const message = slack.message("C0APPR", messageId);
    expect(message?.text).toBe("Approved by <@U0ALICE>");
    expect(message?.blocks ?? []).toEqual([]);
  });

  it("posts Discord buttons as a follow-up, then edits it to text without components", async () => {
    const { messageId } = await router.askApproval(discordTarget, prompt);
    const followUp = discord.followUps("ask-token")[0];
    expect(followUp?.id).toBe(messageId);
    expect(followUp?.content).toMatch(
      /^Approve \*\*ssh_execute\*\*\? ssh_execute on build: uptime\nOnly <@U0ALICE> can decide · expires <t:1800000900:R>$/,
    );
    expect(followUp?.body.allowed_mentions).toEqual({ parse: [] });
    expect(discord.message(messageId)?.components).toEqual([
      {
        type: 1,
        components: [
          { type: 2, style: 3, label: "Approve", custom_id: "tool_approve:a-123" },
          { type: 2, style: 4, label: "Deny", custom_id: "tool_deny:a-123" },
        ],
      },
    ]);
    await router.settleApproval(discordTarget, messageId, "Expired: nobody decided in time.");
    expect(discord.message(messageId)).toMatchObject({
      content: "Expired: nobody decided in time.",
      components: [],
    });
  });

  it("refuses to ask where there are no buttons", async () => {
    const error = await rejection(router.askApproval({ ...slackTarget, via: "kadi" }, prompt));
    expect(error).toBeInstanceOf(PlatformNotConfiguredError);
    expect(slack.posted()).toEqual([]);
  });
});
