import { TTL_ATTRIBUTE } from "../core/constants/storage";

/**
 * The single DynamoDB table (docs/architecture.md, Storage): string `pk`/`sk`, TTL on
 * {@link TTL_ATTRIBUTE}, on-demand billing (SST's default). Production keeps point-in-time
 * recovery and deletion protection on; with `removal: "retain"` (sst.config.ts) the table also
 * outlives `sst remove`, so redeploying an older commit finds its data.
 */
export function createStorage(options: { production: boolean }) {
  const memoryTable = new sst.aws.Dynamo("Memory", {
    fields: { pk: "string", sk: "string" },
    primaryIndex: { hashKey: "pk", rangeKey: "sk" },
    ttl: TTL_ATTRIBUTE,
    deletionProtection: options.production,
    transform: {
      table: (args) => {
        args.pointInTimeRecovery = { enabled: options.production };
      },
    },
  });
  return { memoryTable };
}
