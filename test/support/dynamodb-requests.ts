import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * One request sent to DynamoDB: the low-level command name (`GetItemCommand`,
 * `TransactWriteItemsCommand`, ...) and its input as the document client was given it (plain
 * values, not yet marshalled).
 */
export interface RecordedRequest {
  command: string;
  input: Record<string, unknown>;
}

/**
 * Records every request `documents` sends, through an `initialize`-step middleware on the
 * client's stack (which the document client shares with its DynamoDB client, so it sees the
 * low-level commands). Read and clear `requests` freely.
 * See https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/middleware-stack.html.
 */
export function recordRequests(documents: DynamoDBDocumentClient): { requests: RecordedRequest[] } {
  const recorder = { requests: [] as RecordedRequest[] };
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      recorder.requests.push({
        command: String(context.commandName),
        input: args.input as Record<string, unknown>,
      });
      return next(args);
    },
    { step: "initialize", name: "recordRequests" },
  );
  return recorder;
}

/**
 * How many summary items (`sk` starting with `SUMMARY#`) the requests wrote: PutItem,
 * BatchWriteItem puts and TransactWriteItems puts.
 */
export function summaryItemWrites(requests: readonly RecordedRequest[]): number {
  const isSummary = (item: unknown) =>
    String((item as { sk?: unknown } | undefined)?.sk ?? "").startsWith("SUMMARY#");
  let writes = 0;
  for (const { command, input } of requests) {
    if (command === "PutItemCommand" && isSummary(input.Item)) writes++;
    if (command === "TransactWriteItemsCommand") {
      for (const action of input.TransactItems as { Put?: { Item?: unknown } }[]) {
        if (isSummary(action.Put?.Item)) writes++;
      }
    }
    if (command === "BatchWriteItemCommand") {
      for (const batch of Object.values(input.RequestItems as Record<string, unknown[]>)) {
        for (const r of batch as { PutRequest?: { Item?: unknown } }[]) {
          if (isSummary(r.PutRequest?.Item)) writes++;
        }
      }
    }
  }
  return writes;
}
