/**
 * Names of the single DynamoDB table's attributes that both the deployed table (`infra/`) and
 * the code that writes items must agree on (docs/architecture.md, "Storage"). Plain data, so
 * `infra/` may import it.
 */

/** Name of the TTL attribute (epoch seconds), as DynamoDB TTL requires
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html). */
export const TTL_ATTRIBUTE = "expiresAt";
