/**
 * The local console (docs/architecture.md, "Local console"): the web page and `npm run chat`
 * talk to the agent as the `web` platform through the local stack's own ingress pipeline,
 * chat queue, worker and memory. Built by `startLocalStack` only; the deployed ingress has no
 * console and the deployed worker no web replier.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Hono } from "hono";
import type { ChatJob } from "../../core/chat/job";
import type { Replier } from "../../core/chat/replier";
import type { AwsClients } from "../../core/compose/aws";
import { buildForgetConversation } from "../../core/compose/forget";
import type { IngressDeps } from "../../core/compose/ingress";
import type { LongTermMemory } from "../../core/compose/memory";
import type { Config } from "../../core/config";
import { queueProbe } from "../../core/health-check/probes";
import type { BreakerStore } from "../../core/llm/breaker-store";
import type { Logger } from "../../core/logger";
import { ConversationStore } from "../../core/memory/conversations";
import { PreferenceStore } from "../../core/memory/preferences";
import { WebReplier } from "../../core/platforms/web/replier";
import { CONSOLE_FILE, type ConsoleAddress } from "./address";
import { ConsoleHub, type JobResult, reportingTo } from "./hub";
import { mountConsole } from "./routes";

/** What the local stack needs of its console; see {@link createLocalConsole}. */
export interface LocalConsole {
  /** `rest` with the `web` platform's direct replies sent to the console's event hub. */
  withWebReplies(rest: Replier): Replier;
  /** The worker's `runJob`, reporting each web job's end (`done`) to the event hub. */
  reporting<R extends JobResult>(
    runJob: (job: ChatJob) => Promise<R>,
  ): (job: ChatJob) => Promise<R>;
  /** Adds the page and the API to the stack's HTTP app (see `mountConsole`). */
  mount(app: Hono, deps: ConsoleStackDeps): void;
  /** The console's address once the server listens on `baseUrl`. */
  address(baseUrl: string): ConsoleAddress;
  /** Ends the open event streams, so the HTTP server can close. */
  close(): Promise<void>;
}

/** What the console reads from the rest of the local stack. */
export interface ConsoleStackDeps {
  config: Config;
  aws: AwsClients;
  memory: LongTermMemory;
  breakerStore: BreakerStore;
  /** The stack's ingress: its pipeline, `/health` report and health-check records. */
  ingress: IngressDeps;
}

/** A console with a new random token (32 bytes from the OS's CSPRNG) and an empty hub. */
export function createLocalConsole(): LocalConsole {
  const token = randomBytes(32).toString("hex");
  const hub = new ConsoleHub();
  const web = new WebReplier(hub);
  return {
    withWebReplies: (rest) => withWebReplies(web, rest),
    reporting: (runJob) => reportingTo(hub, runJob),
    mount(app, deps) {
      const table = { client: deps.aws.documents, tableName: deps.config.memoryTableName };
      const probe = (component: "chat-queue" | "archive-queue", queueUrl: string | undefined) =>
        queueProbe({ component, sqs: deps.aws.sqs, queueUrl: queueUrl ?? "" });
      mountConsole(app, {
        token,
        hub,
        pipeline: deps.ingress.pipeline,
        conversations: new ConversationStore(table),
        preferences: new PreferenceStore(table),
        memory: deps.memory,
        recallBudget: deps.config.recall,
        archiveHighWater: deps.config.archiveHighWater,
        forget: buildForgetConversation(deps.config, deps.aws, deps.memory),
        health: deps.ingress.health,
        breakers: deps.breakerStore,
        healthRecords: deps.ingress.healthRecords,
        queues: {
          chat: probe("chat-queue", deps.config.chatQueueUrl),
          archive: probe("archive-queue", deps.config.archiveQueueUrl),
        },
      });
    },
    address: (baseUrl) => ({ url: `${baseUrl}/?token=${token}`, baseUrl, token }),
    close: () => hub.close(),
  };
}

/**
 * `rest`, with replies to `web` (`via: "direct"`) going to `web`: the local stack's reply
 * router. Approval buttons stay `rest`'s (the console asks for none).
 */
function withWebReplies(web: Replier, rest: Replier): Replier {
  const pick = (target: Parameters<Replier["post"]>[0]) =>
    target.platform === "web" && target.via === "direct" ? web : rest;
  return {
    post: (target, text) => pick(target).post(target, text),
    open: (target, job) => pick(target).open(target, job),
    canAskApproval: (target) => pick(target).canAskApproval?.(target) ?? false,
    ...(rest.askApproval ? { askApproval: rest.askApproval.bind(rest) } : {}),
    ...(rest.settleApproval ? { settleApproval: rest.settleApproval.bind(rest) } : {}),
  };
}

/**
 * `npm start`'s announcement: logs the console URL (token included) and writes it to
 * `{dataDir}/console.json` (mode 0600), where `npm run chat` finds the running stack. The file
 * outlives the stack; the CLI then finds nothing listening and says to start it.
 * @throws the file system's error when `dataDir` cannot be written.
 */
export async function announceConsole(
  address: ConsoleAddress,
  dataDir: string,
  logger: Logger,
): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, CONSOLE_FILE);
  await writeFile(path, `${JSON.stringify({ ...address, pid: process.pid })}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  logger.info(`console: open ${address.url} or run npm run chat`, { path });
}
