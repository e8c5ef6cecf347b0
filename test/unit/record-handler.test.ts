import type { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it, vi } from "vitest";
import * as z from "zod";
import { createSqsJobHandler } from "../../core/queue/record-handler";
import { localLambdaContext } from "../../local/poller";
import { sqsEvent } from "../support/sqs";

class InvalidTestJobError extends Error {
  override readonly name = "InvalidTestJobError";
}

const schema = z.object({ v: z.literal(1), secret: z.string() });

function fakeLogger() {
  const error = vi.fn();
  const info = vi.fn();
  return { logger: { error, info } as unknown as Logger, error };
}

describe("createSqsJobHandler", () => {
  it("runs valid jobs and reports only the failed records, each logged with its messageId", async () => {
    const { logger, error } = fakeLogger();
    const run = vi.fn(async (job: z.infer<typeof schema>) => {
      if (job.secret === "boom-value") throw new Error("backend down");
    });
    const onInvocation = vi.fn();
    const handler = createSqsJobHandler({
      name: "test job",
      schema,
      invalidJobError: InvalidTestJobError,
      run,
      logger,
      onInvocation,
    });
    const event = sqsEvent(
      [
        { v: 1, secret: "fine-value" },
        "{not json private-text",
        { v: 2, secret: "wrong-version-value" },
        { v: 1, secret: "boom-value" },
      ],
      { queue: "test" },
    );
    const result = await handler(event, localLambdaContext("test", 30_000));

    expect(onInvocation).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledTimes(2);
    const failedIds = ["test-1", "test-2", "test-3"];
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(failedIds);
    expect(error).toHaveBeenCalledTimes(3);
    const logged = error.mock.calls.map((call) => call[1] as Record<string, unknown>);
    expect(logged.map((fields) => fields.messageId).sort()).toEqual(failedIds);
    for (const fields of logged) {
      expect(fields.error).toBeDefined();
      expect(typeof fields.bodyBytes).toBe("number");
    }
    const text = JSON.stringify(error.mock.calls, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message } : value,
    );
    expect(text).not.toContain("private-text");
    expect(text).not.toContain("wrong-version-value");
    expect(text).not.toContain("boom-value");
  });

  it("names the typed invalid-job error when it logs an invalid record", async () => {
    const { logger } = fakeLogger();
    const seen: unknown[] = [];
    const handler = createSqsJobHandler({
      name: "test job",
      schema,
      invalidJobError: InvalidTestJobError,
      run: async () => {},
      logger: {
        error: (_message: string, fields: { error: unknown }) => seen.push(fields.error),
        info: logger.info,
      } as unknown as Logger,
    });
    const result = await handler(
      sqsEvent([{ v: 1 }], { queue: "test" }),
      localLambdaContext("test", 30_000),
    );
    expect(result.batchItemFailures).toHaveLength(1);
    expect(seen[0]).toMatchObject({ name: "InvalidTestJobError" });
  });
});
