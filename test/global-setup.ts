import type { TestProject } from "vitest/node";
import { type RunningService, startDynamoDbLocal, startSqsEmulator } from "../local/services";

declare module "vitest" {
  export interface ProvidedContext {
    /** Endpoint of the in-memory DynamoDB Local shared by all test files. */
    dynamodbEndpoint: string;
    /** Endpoint of the fauxqs SQS emulator shared by all test files. */
    sqsEndpoint: string;
  }
}

/**
 * Starts DynamoDB Local (in memory) and fauxqs once for the whole run; test files isolate
 * themselves by using their own table and queue names.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services: RunningService[] = [];
  const dynamo = await startDynamoDbLocal();
  services.push(dynamo);
  const sqs = await startSqsEmulator();
  services.push(sqs);
  project.provide("dynamodbEndpoint", dynamo.endpoint);
  project.provide("sqsEndpoint", sqs.endpoint);
  return async () => {
    await Promise.allSettled(services.map((s) => s.stop()));
  };
}
