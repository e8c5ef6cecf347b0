/**
 * Every failed queue record of the chat worker and of the archiver is logged once, at error
 * level, with its cause, its message id, receive count and body size, and never its body
 * (issue 13, item 3). The real handlers (`createChatWorkerHandler`, `createArchiverHandler`)
 * against DynamoDB Local, failing for real: a table that does not exist, bodies that are not
 * JSON, jobs that do not validate (a user id of 300 000 characters among them).
 */
import { describe, expect, it } from "vitest";
import type { ChatJob } from "../../core/chat/job";
import { buildArchiverDeps } from "../../core/compose/archiver";
import { createAwsClients } from "../../core/compose/aws";
import { buildWorkerDeps } from "../../core/compose/worker";
import { createArchiverHandler } from "../../functions/archiver";
import { createChatWorkerHandler } from "../../functions/chat-worker";
import { localLambdaContext } from "../../local/poller";
import { LOCAL_CREDENTIALS } from "../../local/services";
import { testConfig } from "../support/aws";
import { captureLog } from "../support/log-capture";
import { sqsEvent } from "../support/sqs";

/** A value that must never appear in a log record. */
const PRIVATE = "PRIVATE-TEXT-of-a-user";

function missingTableConfig() {
  return testConfig({
    MEMORY_TABLE_NAME: `missing-${Date.now()}`,
    ARCHIVE_QUEUE_URL: "http://127.0.0.1:9/000000000000/archive-unused",
  });
}

function chatJob(overrides: Partial<ChatJob["conversation"]> = {}): ChatJob {
  return {
    v: 2,
    jobId: `slack:C1:1700000000.${String(Date.now() % 1e6).padStart(6, "0")}`,
    source: { kind: "slack-events", eventId: "Ev1" },
    conversation: { platform: "slack", channelId: "C1", userId: "U1", ...overrides },
    text: `hello ${PRIVATE}`,
    sentAt: 1_700_000_000_000,
    reply: { platform: "slack", via: "direct", address: { channel: "C1" } },
  };
}

/** The error-level records, each checked for the facts every failed record must carry. */
function failedRecords(log: ReturnType<typeof captureLog>, message: RegExp) {
  const records = log
    .records()
    .filter((r) => r.level === "ERROR" && message.test(String(r.message)));
  for (const record of records) {
    expect(record).toMatchObject({
      messageId: expect.any(String),
      receiveCount: expect.any(String),
      bodyBytes: expect.any(Number),
      error: { name: expect.any(String), message: expect.any(String) },
    });
  }
  for (const line of log.lines) {
    expect(line).not.toContain(PRIVATE);
    expect(line).not.toContain("UUUUUUUUUUUUUUUU");
  }
  return records;
}

describe("failed queue records are logged with their cause, ids and sizes", () => {
  it("chat worker: a turn that fails, a body that is not JSON, and jobs that do not validate", async () => {
    const config = missingTableConfig();
    const log = captureLog("chat-worker-test");
    const handler = createChatWorkerHandler(
      buildWorkerDeps(config, createAwsClients(config, LOCAL_CREDENTIALS), { logger: log.logger }),
    );
    const huge = chatJob({ userId: `U${"U".repeat(300_000)}` });
    const event = sqsEvent([chatJob(), `{"text": "${PRIVATE}"`, { ...chatJob(), v: 9 }, huge], {
      queue: "chat",
      ids: ["run-fails", "not-json", "bad-version", "huge-user"],
    });
    const result = await handler(event, localLambdaContext("chat-worker", 30_000));

    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      ["bad-version", "huge-user", "not-json", "run-fails"].sort(),
    );
    const failed = failedRecords(log, /chat job/);
    expect(failed.map((r) => r.messageId).sort()).toEqual(
      ["bad-version", "huge-user", "not-json", "run-fails"].sort(),
    );
    const byId = new Map(failed.map((r) => [r.messageId, r]));
    expect(byId.get("run-fails")).toMatchObject({ message: "chat job failed; SQS will retry it" });
    // The cause chain reaches DynamoDB's own error (the table does not exist).
    expect(JSON.stringify(byId.get("run-fails"))).toMatch(/ResourceNotFound|non-existent table/i);
    expect(byId.get("not-json")).toMatchObject({
      message: "invalid chat job",
      error: { name: "InvalidChatJobError" },
      issues: [{ code: "invalid_json", path: "" }],
    });
    expect(byId.get("huge-user")).toMatchObject({
      message: "invalid chat job",
      issues: [{ code: "too_big", path: "conversation.userId" }],
    });
    expect(byId.get("huge-user")?.bodyBytes).toBeGreaterThan(300_000);
  });

  it("archiver: a job that fails, a body that is not JSON, and a job that does not validate", async () => {
    const config = missingTableConfig();
    const log = captureLog("archiver-test");
    const handler = createArchiverHandler(
      buildArchiverDeps(config, createAwsClients(config, LOCAL_CREDENTIALS), {
        logger: log.logger,
      }),
    );
    const job = {
      v: 1,
      conversation: { platform: "slack", channelId: "C1", userId: "U1" },
      requestedAt: 1,
    };
    const event = sqsEvent([job, PRIVATE, { ...job, conversation: { platform: "irc" } }], {
      queue: "archive",
      ids: ["run-fails", "not-json", "invalid"],
    });
    const result = await handler(event, localLambdaContext("archiver", 30_000));

    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      ["invalid", "not-json", "run-fails"].sort(),
    );
    const failed = failedRecords(log, /archive job/);
    expect(failed.map((r) => r.messageId).sort()).toEqual(
      ["invalid", "not-json", "run-fails"].sort(),
    );
    const byId = new Map(failed.map((r) => [r.messageId, r]));
    expect(byId.get("run-fails")).toMatchObject({
      message: "archive job failed; SQS will retry it",
    });
    expect(JSON.stringify(byId.get("run-fails"))).toMatch(/ResourceNotFound|non-existent table/i);
    expect(byId.get("invalid")).toMatchObject({
      message: "invalid archive job",
      error: { name: "InvalidArchiveJobError" },
    });
  });
});
