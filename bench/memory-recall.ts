/**
 * Recall benchmark (`npm run bench:memory-recall`): the embedded long-term search per chat turn
 * for one user with 50, 1000 and 5000 summaries, against DynamoDB Local. Compares the
 * per-container cache (warm: one head GetItem; after another container's put: head + log +
 * BatchGet; cold container: full rebuild) with the old approach (read every summary and build
 * MiniSearch on every turn). Prints figures only; never fails on time.
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { createAwsClients } from "../core/compose/aws";
import { loadConfig } from "../core/config";
import { rankSummaries } from "../core/memory/long-term/ranking";
import { SummaryStore, summaryId, summaryItem } from "../core/memory/long-term/summaries";
import { LOG_HEAD_SK, logEntryItem } from "../core/memory/long-term/summary-log";
import type { SummaryRecord } from "../core/memory/long-term/types";
import { UserIndexCache } from "../core/memory/long-term/user-index-cache";
import { userPk } from "../core/memory/table/keys";
import { ensureTable } from "../core/memory/table/table";
import { LOCAL_CREDENTIALS, startDynamoDbLocal } from "../local/services";
import { chatMessages, summaryText } from "./recall-fixtures";

/** What to measure, and where. */
export interface RecallBenchOptions {
  /** Summary counts of the one user, default `[50, 1000, 5000]`. */
  sizes?: readonly number[];
  /** Timed turns per warm/old measurement, default 50. */
  queries?: number;
  /** Cold-container first searches per size, default 5. */
  coldRuns?: number;
  /** A running DynamoDB endpoint to use; without it DynamoDB Local is started and stopped. */
  endpoint?: string;
  /** Table to use (created if missing); default a fresh `bench-recall-{time}`. */
  tableName?: string;
}

/** One measured approach at one size. Latencies in ms; read units are RCU per turn. */
export interface RecallBenchRow {
  summaries: number;
  approach: "cache warm" | "cache after 1 put elsewhere" | "cache cold (rebuild)" | "old: read all";
  runs: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  /** DynamoDB requests per turn (mean). */
  requestsPerTurn: number;
  /**
   * Mean ms per turn spent waiting for DynamoDB (the rest of `meanMs` is in-process work:
   * MiniSearch build or search, parsing). DynamoDB Local's round trips are slower than
   * DynamoDB's in-region single-digit ms, so this part does not transfer to AWS.
   */
  dynamoMsPerTurn: number;
  /** Read capacity units per turn (mean), strongly consistent. */
  readUnitsPerTurn: number;
  /**
   * `reported`: DynamoDB's `ConsumedCapacity` (`ReturnConsumedCapacity: "TOTAL"`); `computed`:
   * from the returned item sizes by DynamoDB's rules (1 RCU per started 4 KB per strongly
   * consistent read; a Query page sums its items first; BatchGet rounds each item; minimum 1),
   * used when the endpoint does not report it.
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
   */
  readUnitsSource: "reported" | "computed";
  /**
   * Cold rows only: heap bytes one cached summary costs (text, record and MiniSearch postings),
   * measured around building one user's index with forced GCs; absent unless Node runs with
   * `--expose-gc` (the npm script passes it).
   */
  heapBytesPerSummary?: number;
}

/** Counts requests and read units a document client spends, by a middleware on its stack. */
interface Meter {
  requests: number;
  readUnits: number;
  reported: boolean;
  waitMs: number;
}

function meter(documents: DynamoDBDocumentClient): Meter {
  const m: Meter = { requests: 0, readUnits: 0, reported: true, waitMs: 0 };
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const isRead = ["GetItemCommand", "QueryCommand", "BatchGetItemCommand"].includes(command);
      const input = args.input as Record<string, unknown>;
      if (isRead) input.ReturnConsumedCapacity = "TOTAL";
      const start = performance.now();
      const result = await next(args);
      m.waitMs += performance.now() - start;
      m.requests++;
      if (!isRead) return result;
      const output = result.output as Record<string, unknown>;
      const reported = [output.ConsumedCapacity].flat().filter(Boolean) as {
        CapacityUnits?: number;
      }[];
      if (reported.length > 0 && reported.every((c) => typeof c.CapacityUnits === "number")) {
        m.readUnits += reported.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      } else {
        m.reported = false;
        m.readUnits += computedReadUnits(command, output);
      }
      return result;
    },
    { step: "initialize", name: "recallBenchMeter" },
  );
  return m;
}

/** DynamoDB's item size: attribute name bytes plus value bytes (strings UTF-8, numbers ≤ 21). */
function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (typeof value === "string") bytes += Buffer.byteLength(value);
    else if (typeof value === "number") bytes += Math.ceil(String(value).length / 2) + 1;
    else bytes += Buffer.byteLength(JSON.stringify(value)) + 3;
  }
  return bytes;
}

function computedReadUnits(command: string, output: Record<string, unknown>): number {
  const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
  if (command === "GetItemCommand") {
    return units(output.Item ? itemBytes(output.Item as Record<string, unknown>) : 0);
  }
  if (command === "QueryCommand") {
    const items = (output.Items ?? []) as Record<string, unknown>[];
    return units(items.reduce((sum, item) => sum + itemBytes(item), 0));
  }
  const responses = Object.values((output.Responses ?? {}) as Record<string, unknown[]>).flat();
  return responses.reduce<number>((sum, item) => sum + units(itemBytes(item as never)), 0);
}

function record(userId: string, n: number): SummaryRecord {
  const toMessageId = `01J${String(n).padStart(23, "0")}`;
  const conversation = { platform: "slack" as const, channelId: "C-BENCH", userId };
  return {
    id: summaryId(conversation, toMessageId),
    ...conversation,
    text: summaryText(n),
    fromMessageId: toMessageId,
    toMessageId,
    messageCount: 50,
    model: "bench",
    createdAt: 1_750_000_000_000 + n * 60_000,
  };
}

/**
 * Seeds `count` summaries of `userId` as `SummaryStore.put` would leave them (summary item, one
 * `put` log entry each, head at `count`), but with BatchWriteItem for speed: seeding 5000 puts
 * one transaction at a time would dominate the run.
 */
async function seed(
  documents: DynamoDBDocumentClient,
  table: string,
  userId: string,
  count: number,
) {
  const pk = userPk("slack", userId);
  const items: Record<string, unknown>[] = [];
  for (let n = 0; n < count; n++) {
    const r = record(userId, n);
    items.push(summaryItem(r), logEntryItem(pk, n + 1, { op: "put", id: r.id }, Date.now()));
  }
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const out = await documents.send(
        new BatchWriteCommand({ RequestItems: { [table]: requests } }),
      );
      requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }
  await documents.send(
    new PutCommand({ TableName: table, Item: { pk, sk: LOG_HEAD_SK, version: count } }),
  );
}

function summarise(
  summaries: number,
  approach: RecallBenchRow["approach"],
  samples: readonly number[],
  m: Meter,
): RecallBenchRow {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
  return {
    summaries,
    approach,
    runs: samples.length,
    meanMs: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    requestsPerTurn: m.requests / samples.length,
    dynamoMsPerTurn: m.waitMs / samples.length,
    readUnitsPerTurn: m.readUnits / samples.length,
    readUnitsSource: m.reported ? "reported" : "computed",
  };
}

/**
 * Runs `turn` once per message, timing each and metering `documents` on a fresh meter;
 * `prepare` runs before each turn, untimed (it must use another client to stay unmetered).
 */
async function timed(
  documents: DynamoDBDocumentClient,
  messages: readonly string[],
  turn: (text: string) => Promise<unknown>,
  prepare?: () => Promise<unknown>,
): Promise<{ samples: number[]; m: Meter }> {
  const m = meter(documents);
  const samples: number[] = [];
  for (const text of messages) {
    await prepare?.();
    const start = performance.now();
    await turn(text);
    samples.push(performance.now() - start);
  }
  documents.middlewareStack.remove("recallBenchMeter");
  return { samples, m };
}

async function heapPerSummary(
  store: SummaryStore,
  query: Parameters<UserIndexCache["search"]>[0],
  size: number,
): Promise<{ heapBytesPerSummary?: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return {};
  const cache = new UserIndexCache(store);
  // The delta after a forced GC is what the cache keeps: records (with their text) plus postings.
  gc();
  const before = process.memoryUsage().heapUsed;
  await cache.search(query);
  gc();
  const after = process.memoryUsage().heapUsed;
  return { heapBytesPerSummary: Math.round((after - before) / size) };
}

/**
 * Measures recall per turn for each size (see {@link RecallBenchOptions}); rows in size order:
 * cache warm, cache after one put by another container, cache cold, old read-all.
 * @throws the AWS SDK's error when DynamoDB fails; `ServiceStartError` when DynamoDB Local
 *   cannot start.
 */
export async function runRecallBench(options: RecallBenchOptions = {}): Promise<RecallBenchRow[]> {
  const local = options.endpoint ? undefined : await startDynamoDbLocal();
  try {
    const config = loadConfig({
      env: {
        AWS_ENDPOINT_URL_DYNAMODB: options.endpoint ?? local?.endpoint,
        MEMORY_TABLE_NAME: options.tableName ?? `bench-recall-${Date.now()}`,
        LOG_LEVEL: "SILENT",
      },
    });
    const table = config.memoryTableName;
    const client = () => createAwsClients(config, LOCAL_CREDENTIALS);
    const seeder = client();
    await ensureTable(seeder.dynamodb, table);
    const messages = chatMessages(options.queries ?? 50);
    const rows: RecallBenchRow[] = [];
    for (const size of options.sizes ?? [50, 1000, 5000]) {
      const userId = `U-bench-${size}-${Date.now()}`;
      await seed(seeder.documents, table, userId, size);
      const ask = (text: string) => ({ platform: "slack" as const, userId, text, limit: 3 });

      const own = client();
      const store = new SummaryStore({ client: own.documents, tableName: table });
      const cache = new UserIndexCache(store);
      await cache.search(ask("warm-up"));
      const warm = await timed(own.documents, messages, (t) => cache.search(ask(t)));
      rows.push(summarise(size, "cache warm", warm.samples, warm.m));

      // Another container archives one summary before each of these turns, with the real put.
      const writer = new SummaryStore({ client: seeder.documents, tableName: table });
      let next = size;
      const afterPut = await timed(
        own.documents,
        messages.slice(0, 10),
        (t) => cache.search(ask(t)),
        () => writer.put(record(userId, next++)),
      );
      rows.push(summarise(size, "cache after 1 put elsewhere", afterPut.samples, afterPut.m));

      const cold = await timed(own.documents, messages.slice(0, options.coldRuns ?? 5), (t) =>
        new UserIndexCache(store).search(ask(t)),
      );
      rows.push({
        ...summarise(size, "cache cold (rebuild)", cold.samples, cold.m),
        ...(await heapPerSummary(store, ask("warm-up"), size)),
      });

      const old = await timed(own.documents, messages, async (t) =>
        rankSummaries(await store.listForUser("slack", userId), ask(t)),
      );
      rows.push(summarise(size, "old: read all", old.samples, old.m));
      own.dynamodb.destroy();
    }
    seeder.dynamodb.destroy();
    return rows;
  } finally {
    await local?.stop();
  }
}

/** The rows as a fixed-width table, one line per row. */
export function formatRecallRows(rows: readonly RecallBenchRow[]): string {
  const header = [
    "summaries",
    "approach",
    "runs",
    "mean ms",
    "p50 ms",
    "p99 ms",
    "DynamoDB ms",
    "req/turn",
    "RCU/turn",
  ];
  const lines = rows.map((r) => [
    String(r.summaries),
    r.approach,
    String(r.runs),
    r.meanMs.toFixed(2),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.dynamoMsPerTurn.toFixed(2),
    r.requestsPerTurn.toFixed(1),
    `${r.readUnitsPerTurn.toFixed(1)}${r.readUnitsSource === "computed" ? "*" : ""}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ");
  const note = rows.some((r) => r.readUnitsSource === "computed")
    ? "\n* RCU computed from item sizes (the endpoint did not report ConsumedCapacity)"
    : "";
  const heap = rows
    .filter((r) => r.heapBytesPerSummary !== undefined)
    .map((r) => `${r.summaries}: ${r.heapBytesPerSummary} B`)
    .join(", ");
  const heapNote = heap ? `\nheap per cached summary (${heap})` : "";
  const legend = "\nDynamoDB ms: mean wait per turn for DynamoDB (Local), included in mean ms";
  return [fmt(header), ...lines.map(fmt)].join("\n") + legend + note + heapNote;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const rows = await runRecallBench();
  console.log(formatRecallRows(rows));
  console.log(
    `(${((performance.now() - started) / 1000).toFixed(1)} s; timings never fail the run)`,
  );
}
