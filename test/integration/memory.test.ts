import { beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../core/compose/aws";
import { ConversationStore } from "../../core/memory/conversations";
import { DedupeStore } from "../../core/memory/dedupe";
import { type ConversationRef, deterministicMessageId } from "../../core/memory/keys";
import { KnowledgeStore, KnowledgeValidationError } from "../../core/memory/knowledge";
import { PreferenceStore } from "../../core/memory/preferences";
import { testAws, testConfig } from "../support/aws";

let aws: AwsClients;
let table: string;

beforeAll(async () => {
  const setup = await testAws(testConfig());
  aws = setup.aws;
  table = setup.config.memoryTableName;
});

const conv = (userId = "U1", channelId = "C1"): ConversationRef => ({
  platform: "slack",
  channelId,
  userId,
});

describe("ConversationStore (DynamoDB Local)", () => {
  it("returns the newest 20 messages oldest first and counts every append", async () => {
    const store = new ConversationStore(aws.documents, table);
    const c = conv("U-window");
    for (let i = 0; i < 25; i++) {
      await store.append(c, {
        messageId: deterministicMessageId(1_700_000_000_000 + i, `m${i}`),
        role: i % 2 === 0 ? "user" : "assistant",
        content: `message ${i}`,
        createdAt: 1_700_000_000_000 + i,
      });
    }
    const recent = await store.recent(c);
    expect(recent).toHaveLength(20);
    expect(recent[0]?.content).toBe("message 5");
    expect(recent.at(-1)?.content).toBe("message 24");
    expect(await store.messageCount(c)).toBe(25);
  });

  it("stores a replayed message id once and does not bump the counter", async () => {
    const store = new ConversationStore(aws.documents, table);
    const c = conv("U-replay");
    const message = {
      messageId: deterministicMessageId(1_700_000_000_000, "job-1#user"),
      role: "user" as const,
      content: "hello",
      createdAt: 1_700_000_000_000,
    };
    expect(await store.append(c, message)).toEqual({ stored: true });
    expect(await store.append(c, message)).toEqual({ stored: false });
    expect(await store.recent(c)).toHaveLength(1);
    expect(await store.messageCount(c)).toBe(1);
  });

  it("keeps conversations of different users in one channel apart", async () => {
    const store = new ConversationStore(aws.documents, table);
    await store.append(conv("U-a", "C-shared"), {
      messageId: deterministicMessageId(1, "a"),
      role: "user",
      content: "from a",
      createdAt: 1,
    });
    const other = await store.recent(conv("U-b", "C-shared"));
    expect(other).toEqual([]);
  });
});

describe("PreferenceStore and KnowledgeStore", () => {
  it("puts, reads and deletes preferences per user", async () => {
    const prefs = new PreferenceStore(aws.documents, table);
    await prefs.put("slack", "U-pref", "model", "haiku");
    await prefs.put("slack", "U-pref", "tone", "brief");
    expect(await prefs.getAll("slack", "U-pref")).toEqual({ model: "haiku", tone: "brief" });
    expect(await prefs.getAll("slack", "U-other")).toEqual({});
    await prefs.delete("slack", "U-pref", "model");
    expect(await prefs.getAll("slack", "U-pref")).toEqual({ tone: "brief" });
  });

  it("shares knowledge entries and rejects oversized values", async () => {
    const kb = new KnowledgeStore(aws.documents, table);
    await kb.put({ key: "oncall", value: "Ada this week", author: "slack:U1" });
    expect(await kb.get("oncall")).toMatchObject({ value: "Ada this week", author: "slack:U1" });
    await expect(kb.put({ key: "big", value: "x".repeat(70_000) })).rejects.toBeInstanceOf(
      KnowledgeValidationError,
    );
    await kb.delete("oncall");
    expect(await kb.get("oncall")).toBeUndefined();
  });
});

describe("DedupeStore", () => {
  it("lets the first claim win, honours expiry, and can be released", async () => {
    let now = 1_700_000_000_000;
    const dedupe = new DedupeStore(aws.documents, table, () => now);
    expect(await dedupe.claim("slack-event", "Ev1", 60)).toBe(true);
    expect(await dedupe.claim("slack-event", "Ev1", 60)).toBe(false);
    now += 61_000; // TTL deletion is lazy: an expired mark must not block a new claim
    expect(await dedupe.claim("slack-event", "Ev1", 60)).toBe(true);
    await dedupe.release("slack-event", "Ev1");
    expect(await dedupe.claim("slack-event", "Ev1", 60)).toBe(true);
  });

  it("admits exactly one of many concurrent claims", async () => {
    const dedupe = new DedupeStore(aws.documents, table);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => dedupe.claim("slack-event", "Ev-race")),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
