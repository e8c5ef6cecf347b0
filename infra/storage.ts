/** The single DynamoDB table (design.md, Storage): string pk/sk, TTL on `expiresAt`. */
export const memoryTable = new sst.aws.Dynamo("Memory", {
  fields: { pk: "string", sk: "string" },
  primaryIndex: { hashKey: "pk", rangeKey: "sk" },
  ttl: "expiresAt",
  transform: {
    table: (args) => {
      args.pointInTimeRecovery = { enabled: $app.stage === "production" };
    },
  },
});
