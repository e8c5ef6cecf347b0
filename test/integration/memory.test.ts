import { beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../core/compose/aws";
import { ConversationStore } from "../../core/memory/conversations";
import { DedupeStore } from "../../core/memory/dedupe";
import { KnowledgeStore, KnowledgeValidationError } from "../../core/memory/knowledge";
import { PreferenceStore } from "../../core/memory/preferences";
import { type ConversationRef, messageIdOf } from "../../core/memory/table/keys";
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

const user = (content: string, sentAt: number) => ({ role: "user" as const, content, sentAt });
const assistant = (content: string, sentAt: number) => ({
  role: "assistant" as const,
  content,
  sentAt,
});

describe("ConversationStore (DynamoDB Local)", () => {
  it("returns the newest messages oldest first and counts every append", async () => {
    const store = new ConversationStore({ client: aws.documents, tableName: table });
    const c = conv("U-window");
    for (let i = 0; i < 25; i++) {
      const sentAt = 1_700_000_000_000 + i;
      await store.appendTurn(c, {
        jobId: `job-${i}`,
        messages: [i % 2 === 0 ? user(`message ${i}`, sentAt) : assistant(`message ${i}`, sentAt)],
        nowMs: sentAt,
      });
    }
    const recent = await store.recent(c, 20);
    expect(recent).toHaveLength(20);
    expect(recent[0]?.content).toBe("message 5");
    expect(recent.at(-1)?.content).toBe("message 24");
    expect(recent.map((m) => m.messageId)).toEqual(
      Array.from({ length: 20 }, (_, i) => messageIdOf(i + 6)),
    );
    expect(await store.messageCount(c)).toBe(25);
    expect(await store.head(c)).toMatchObject({ lastSeq: 25, messageCount: 25 });
  });

  it("orders by the sequence it assigns, never by the messages' clocks", async () => {
    const store = new ConversationStore({ client: aws.documents, tableName: table });
    const c = conv("U-clocks");
    // A late job: its question was sent long before the previous turn, its answer just now.
    await store.appendTurn(c, {
      jobId: "newer",
      messages: [user("q2", 2_000), assistant("a2", 3_000)],
      nowMs: 3_000,
    });
    await store.appendTurn(c, {
      jobId: "older",
      messages: [user("q1", 1_000), assistant("a1", 9_000)],
      nowMs: 9_000,
    });
    const recent = await store.recent(c);
    expect(recent.map((m) => m.content)).toEqual(["q2", "a2", "q1", "a1"]);
    expect(recent.map((m) => m.sentAt)).toEqual([2_000, 3_000, 1_000, 9_000]);
  });

  it("stores a redelivered job's turn once and does not bump the counter", async () => {
    const store = new ConversationStore({ client: aws.documents, tableName: table });
    const c = conv("U-replay");
    const turn = { jobId: "job-1", messages: [user("hello", 1), assistant("hi", 2)], nowMs: 2 };
    expect(await store.appendTurn(c, turn)).toEqual({
      stored: true,
      messageIds: [messageIdOf(1), messageIdOf(2)],
      messageCount: 2,
    });
    expect(await store.appendTurn(c, turn)).toEqual({ stored: false });
    // Even with a stale head, as a redelivered job that read META long ago would pass.
    expect(await store.appendTurn(c, turn, { lastSeq: 0, messageCount: 0 })).toEqual({
      stored: false,
    });
    expect(await store.recent(c)).toHaveLength(2);
    expect(await store.messageCount(c)).toBe(2);
  });

  it("gives concurrent turns distinct, adjacent sequence numbers", async () => {
    const store = new ConversationStore({ client: aws.documents, tableName: table });
    const c = conv("U-race");
    const stale = await store.head(c);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        store.appendTurn(
          c,
          { jobId: `race-${i}`, messages: [user(`q${i}`, i), assistant(`a${i}`, i)], nowMs: i },
          stale,
        ),
      ),
    );
    const ids = results.flatMap((r) => (r.stored ? r.messageIds : []));
    expect(new Set(ids).size).toBe(12);
    const recent = await store.recent(c);
    expect(recent).toHaveLength(12);
    for (let i = 0; i < 12; i += 2) {
      // Each question is directly followed by its own answer.
      expect(recent[i]?.content.replace("q", "a")).toBe(recent[i + 1]?.content);
    }
    expect(await store.head(c)).toMatchObject({ lastSeq: 12, messageCount: 12 });
  });

  it("keeps conversations of different users in one channel apart", async () => {
    const store = new ConversationStore({ client: aws.documents, tableName: table });
    await store.appendTurn(conv("U-a", "C-shared"), {
      jobId: "a",
      messages: [user("from a", 1)],
      nowMs: 1,
    });
    const other = await store.recent(conv("U-b", "C-shared"));
    expect(other).toEqual([]);
  });
});

describe("PreferenceStore and KnowledgeStore", () => {
  it("puts, reads and deletes preferences per user", async () => {
    const prefs = new PreferenceStore({ client: aws.documents, tableName: table });
    await prefs.put("slack", "U-pref", "model", "haiku");
    await prefs.put("slack", "U-pref", "tone", "brief");
    expect(await prefs.getAll("slack", "U-pref")).toEqual({ model: "haiku", tone: "brief" });
    expect(await prefs.getAll("slack", "U-other")).toEqual({});
    await prefs.delete("slack", "U-pref", "model");
    expect(await prefs.getAll("slack", "U-pref")).toEqual({ tone: "brief" });
  });

  it("shares knowledge entries and rejects oversized values", async () => {
    const kb = new KnowledgeStore({ client: aws.documents, tableName: table });
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
    const dedupe = new DedupeStore({ client: aws.documents, tableName: table, now: () => now });
    expect(await dedupe.claim("slack-event", "Ev1", 60)).toBe(true);
    expect(await dedupe.claim("slack-event", "Ev1", 60)).toBe(false);
    now += 61_000; // TTL deletion is lazy: an expired mark must not block a new claim
    expect(await dedupe.claim("slack-event", "Ev1", 60)).toBe(true);
    await dedupe.release("slack-event", "Ev1");
    expect(await dedupe.claim("slack-event", "Ev1", 60)).toBe(true);
  });

  it("admits exactly one of many concurrent claims", async () => {
    const dedupe = new DedupeStore({ client: aws.documents, tableName: table });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => dedupe.claim("slack-event", "Ev-race")),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
