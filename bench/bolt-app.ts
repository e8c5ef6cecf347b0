import { App, type AppOptions, AwsLambdaReceiver, LogLevel } from "@slack/bolt";

/** The handler `AwsLambdaReceiver.start()` resolves to. */
export type BoltLambdaHandler = Awaited<ReturnType<AwsLambdaReceiver["start"]>>;
/** The API Gateway event Bolt's Lambda handler takes. */
export type BoltLambdaEvent = Parameters<BoltLambdaHandler>[0];

type BoltLogger = NonNullable<AppOptions["logger"]>;

/** Drops every record: the benchmark compares request handling, not logging. */
const silentLogger: BoltLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

export interface BoltBenchOptions {
  signingSecret: string;
  botToken: string;
  botId: string;
  botUserId: string;
  /** Called by the `app_mention` listener (the benchmark counts dispatches); default no-op. */
  onMention?: () => void;
}

/**
 * The reference Bolt app the ingress benchmark compares against: `AwsLambdaReceiver` (signature
 * verification on) and one no-op `app_mention` listener, as a single-workspace app with its bot
 * token. `botId`/`botUserId` are given and token verification is off, so Bolt never calls
 * `auth.test`: nothing here touches the network. Logging is silenced like ours.
 */
export function createBoltApp(options: BoltBenchOptions): {
  app: App;
  receiver: AwsLambdaReceiver;
} {
  const receiver = new AwsLambdaReceiver({
    signingSecret: options.signingSecret,
    logger: silentLogger,
  });
  const app = new App({
    receiver,
    token: options.botToken,
    botId: options.botId,
    botUserId: options.botUserId,
    tokenVerificationEnabled: false,
    logger: silentLogger,
  });
  const onMention = options.onMention;
  app.event("app_mention", async () => {
    onMention?.();
  });
  return { app, receiver };
}
