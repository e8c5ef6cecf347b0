import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ApprovalStore,
  type ApprovalStore as ApprovalStoreType,
  ApprovalTooLargeError,
  type NewApproval,
} from "../../core/agent/approvals";
import type { AwsClients } from "../../core/compose/aws";
import { APPROVAL_RECORD_GRACE_MS } from "../../core/constants/timings";
import { approvalKey } from "../../core/memory/table/keys";
import { TTL_ATTRIBUTE } from "../../core/memory/table/table";
import { pausedLoop } from "../support/approvals";
import { testAws, testConfig } from "../support/aws";

// The pending approvals of risky tool calls on DynamoDB Local: every transition is one
// conditional write, so concurrent clicks and redelivered resume jobs settle exactly once.

let aws: AwsClients;
let table: string;
let store: ApprovalStoreType;

const NOW = 1_800_000_000_000;
const TTL_MS = 15 * 60 * 1000;

beforeAll(async () => {
  const setup = await testAws(testConfig());
  aws = setup.aws;
  table = setup.config.memoryTableName;
  store = new ApprovalStore({ client: aws.documents, tableName: table, now: () => NOW });
});

const loop = pausedLoop({ messages: [{ role: "user", content: "run uptime on my server" }] });

function newApproval(overrides: Partial<NewApproval> = {}): NewApproval {
  return {
    jobId: "slack:C1:1700000000.000100",
    job: JSON.stringify({ jobId: "slack:C1:1700000000.000100" }),
    requesterUserId: "U-ALICE",
    platform: "slack",
    toolName: "ssh_execute",
    summary: "ssh_execute on build: uptime",
    loop,
    createdAt: NOW,
    expiresAt: NOW + TTL_MS,
    ...overrides,
  };
}

describe("ApprovalStore (DynamoDB Local)", () => {
  it("creates a pending approval with a random id, keeps the loop, and TTLs it past expiresAt", async () => {
    const { created, approval } = await store.create(newApproval());
    expect(created).toBe(true);
    expect(approval.approvalId).toMatch(/^[0-9a-f-]{36}$/);
    const read = await store.get(approval.approvalId);
    expect(read).toMatchObject({
      status: "pending",
      expiresAt: NOW + TTL_MS,
      toolName: "ssh_execute",
    });
    expect(read?.loop).toEqual(loop);
    const { Item } = await aws.documents.send(
      new GetCommand({ TableName: table, Key: approvalKey(approval.approvalId) }),
    );
    expect(Item?.pk).toBe(`APPROVAL#${approval.approvalId}`);
    expect(typeof Item?.loop).toBe("string");
    expect(Item?.[TTL_ATTRIBUTE]).toBe(Math.ceil((NOW + TTL_MS + APPROVAL_RECORD_GRACE_MS) / 1000));
  });

  it("is idempotent for a given id: a second create returns the stored approval", async () => {
    const first = await store.create(newApproval({ approvalId: "given-id-1" }));
    await store.setPromptMessage("given-id-1", "1700000000.000200");
    const again = await store.create(newApproval({ approvalId: "given-id-1", summary: "other" }));
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.approval).toMatchObject({
      summary: "ssh_execute on build: uptime",
      promptMessageId: "1700000000.000200",
    });
  });

  it("refuses a paused loop over the item budget with a typed error and writes nothing", async () => {
    const big = { ...loop, system: "x".repeat(360_000) };
    const error = await store
      .create(newApproval({ approvalId: "too-big", loop: big }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApprovalTooLargeError);
    expect((error as ApprovalTooLargeError).bytes).toBeGreaterThan(350_000);
    expect(await store.get("too-big")).toBeUndefined();
  });

  it("of five concurrent decides exactly one is ok; the others are told it is already decided", async () => {
    const { approval } = await store.create(newApproval());
    const results = await Promise.all(
      ["approve", "deny", "approve", "approve", "deny"].map((decision) =>
        store.decide(
          approval.approvalId,
          { userId: "U-ALICE", decision: decision as "approve" | "deny" },
          NOW + 1000,
        ),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(
      Array(4).fill("already_decided"),
    );
    const winner = results.find((r) => r.ok);
    const stored = await store.get(approval.approvalId);
    expect(stored?.status).toBe(winner?.ok ? winner.approval.status : "none");
    expect(stored?.decidedBy).toBe("U-ALICE");
  });

  it("lets only the requester decide", async () => {
    const { approval } = await store.create(newApproval());
    const result = await store.decide(
      approval.approvalId,
      { userId: "U-BOB", decision: "approve" },
      NOW,
    );
    expect(result).toEqual({ ok: false, reason: "not_requester", status: "pending" });
    expect((await store.get(approval.approvalId))?.status).toBe("pending");
  });

  it("counts a click at or past expiresAt as expired, even before the expiry job or the TTL", async () => {
    const { approval } = await store.create(newApproval());
    const late = await store.decide(
      approval.approvalId,
      { userId: "U-ALICE", decision: "approve" },
      NOW + TTL_MS,
    );
    expect(late).toEqual({ ok: false, reason: "expired", status: "pending" });
    expect(
      await store.decide("no-such-id", { userId: "U-ALICE", decision: "approve" }, NOW),
    ).toEqual({
      ok: false,
      reason: "not_found",
    });
  });

  it("expires a pending approval once due; a decided one stays decided", async () => {
    const pending = (await store.create(newApproval())).approval;
    expect(await store.expire(pending.approvalId, NOW + TTL_MS - 1)).toMatchObject({
      ok: false,
      reason: "not_due",
    });
    const expired = await store.expire(pending.approvalId, NOW + TTL_MS);
    expect(expired).toMatchObject({ ok: true, approval: { status: "expired" } });
    expect(
      await store.decide(pending.approvalId, { userId: "U-ALICE", decision: "approve" }, NOW),
    ).toEqual({ ok: false, reason: "expired", status: "expired" });

    const decided = (await store.create(newApproval())).approval;
    await store.decide(decided.approvalId, { userId: "U-ALICE", decision: "deny" }, NOW);
    expect(await store.expire(decided.approvalId, NOW + TTL_MS)).toEqual({
      ok: false,
      reason: "already_decided",
      status: "denied",
    });
    expect(await store.expire("no-such-id", NOW)).toEqual({ ok: false, reason: "not_found" });
  });

  it("claims the run of an approved call exactly once, then finishes it", async () => {
    const { approval } = await store.create(newApproval());
    expect(await store.claimRun(approval.approvalId)).toBe(false); // still pending
    await store.decide(approval.approvalId, { userId: "U-ALICE", decision: "approve" }, NOW);
    const claims = await Promise.all([
      store.claimRun(approval.approvalId),
      store.claimRun(approval.approvalId),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claimRun(approval.approvalId)).toBe(false);
    expect(await store.reopen(approval.approvalId)).toBe(false); // a claimed run is never taken back
    expect(await store.finish(approval.approvalId, "ok")).toBe(true);
    expect(await store.finish(approval.approvalId, "ok")).toBe(false);
    expect(await store.get(approval.approvalId)).toMatchObject({ status: "done", outcome: "ok" });
  });

  it("never claims a run of a denied call, and reopens a decision whose resume could not be queued", async () => {
    const { approval } = await store.create(newApproval());
    await store.decide(approval.approvalId, { userId: "U-ALICE", decision: "deny" }, NOW);
    expect(await store.claimRun(approval.approvalId)).toBe(false);
    expect(await store.reopen(approval.approvalId)).toBe(true);
    const again = await store.get(approval.approvalId);
    expect(again?.status).toBe("pending");
    expect(again?.decidedBy).toBeUndefined();
    expect(
      (await store.decide(approval.approvalId, { userId: "U-ALICE", decision: "approve" }, NOW)).ok,
    ).toBe(true);
  });
});
