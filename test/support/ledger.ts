import type { ReplyLedger } from "../../core/reply/live-reply";

/**
 * A {@link ReplyLedger} in memory, for tests of a replier's REST calls; the DynamoDB one
 * (`ReplyLedgerStore`) has its own tests on DynamoDB Local.
 */
export function inMemoryLedger(): ReplyLedger & { entries: Map<string, string[]> } {
  const entries = new Map<string, string[]>();
  return {
    entries,
    async read(jobId) {
      return [...(entries.get(jobId) ?? [])];
    },
    async write(jobId, ids) {
      entries.set(jobId, [...ids]);
    },
  };
}
