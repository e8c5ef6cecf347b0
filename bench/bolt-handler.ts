import { type BoltLambdaEvent, type BoltLambdaHandler, createBoltApp } from "./bolt-app";

/**
 * A Bolt Lambda entry point in the usual shape (app built at module level, receiver started on
 * the first invocation), bundled by `bench/ingress.ts` to compare bundle size and cold import
 * time with `functions/http.ts`. Reads `SLACK_SIGNING_SECRET`, `SLACK_BOT_TOKEN`, `SLACK_BOT_ID`
 * and `SLACK_BOT_USER_ID`; the benchmark sets them in the child process.
 */
function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

const { receiver } = createBoltApp({
  signingSecret: env("SLACK_SIGNING_SECRET"),
  botToken: env("SLACK_BOT_TOKEN"),
  botId: env("SLACK_BOT_ID"),
  botUserId: env("SLACK_BOT_USER_ID"),
});

let started: Promise<BoltLambdaHandler> | undefined;

export async function handler(event: BoltLambdaEvent, context: unknown) {
  started ??= receiver.start();
  const lambdaHandler = await started;
  return lambdaHandler(event, context);
}
