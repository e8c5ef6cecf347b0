import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { webConversationSchema } from "../core/platforms/web/job";
import { loadCommandConfig } from "./command-config";
import { ConsoleClient, ConsoleUnreachableError, findConsole } from "./console/client";
import type { ConsoleEvent } from "./console/hub";

const HELP = `Usage: npm run chat -- [--user NAME] [--channel NAME] [--url CONSOLE_URL]

Talks to the agent through the running local stack (npm start), as the console page does.
  --user     whose conversation (default "me")
  --channel  which channel (default "console"); memory is per user and channel
  --url      the console URL npm start printed (default: read from DATA_DIR/console.json)
Commands: /model [name] (show or set your model), /memory, /forget, /quit`;

/**
 * `npm run chat`: a terminal client of the local console (docs/architecture.md, "Local
 * console"). Each line is a message; the answer streams to stdout as the model writes it,
 * followed by the model that answered. Exits 1 with what to do when the stack is not running.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      user: { type: "string" },
      channel: { type: "string" },
      url: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const who = webConversationSchema.safeParse({ user: values.user, channel: values.channel });
  if (!who.success) {
    console.error(`--${String(who.error.issues[0]?.path[0])}: ${who.error.issues[0]?.message}`);
    process.exit(2);
  }
  const config = loadCommandConfig();
  const client = new ConsoleClient(await findConsole(config.dataDir, values.url), who.data);
  const health = await client.health();
  if (health.setup) console.log(`! ${health.setup}`);

  // One answer at a time: each line waits for its `done` before the next is read.
  let pending:
    | { jobId: string | undefined; early: ConsoleEvent[]; streamed: string; done: () => void }
    | undefined;
  const show = (event: ConsoleEvent) => {
    if (event.type === "notice") console.log(`! ${event.text}`);
    if (!pending || !("jobId" in event)) return;
    if (pending.jobId === undefined) {
      // The id is known once the POST answers; a fast model can speak first.
      pending.early.push(event);
      return;
    }
    if (event.jobId !== pending.jobId) return;
    if (event.type === "delta") {
      pending.streamed += event.text;
      process.stdout.write(event.text);
    }
    if (event.type === "status") console.log(`\n› ${event.line}`);
    if (event.type === "done") {
      const model = event.model
        ? `${event.model}${event.fellBackFrom ? ` · fell back from ${event.fellBackFrom}` : ""}`
        : event.outcome;
      // An apology is never streamed; a cut-off answer ends with a note that was not.
      if (event.outcome !== "answered") {
        const { streamed } = pending;
        process.stdout.write(
          event.text.startsWith(streamed) ? event.text.slice(streamed.length) : `\n${event.text}`,
        );
      }
      console.log(`\n  (${model})`);
      pending.done();
    }
  };
  const close = await client.subscribe(show);
  console.log(`Talking to the agent as ${who.data.user} in ${who.data.channel}. /quit to leave.`);

  const lines = createInterface({ input: process.stdin, terminal: process.stdin.isTTY });
  const prompt = () => {
    if (process.stdin.isTTY) process.stdout.write("> ");
  };
  prompt();
  for await (const raw of lines) {
    const line = raw.trim();
    if (!line) {
      prompt();
      continue;
    }
    if (line === "/quit" || line === "/exit") break;
    try {
      if (line.startsWith("/")) await command(client, line);
      else {
        const answered = new Promise<void>((done) => {
          pending = { jobId: undefined, early: [], streamed: "", done };
        });
        const jobId = await client.send(line);
        const current = pending as NonNullable<typeof pending>;
        current.jobId = jobId;
        for (const event of current.early.splice(0)) show(event);
        await answered;
        pending = undefined;
      }
    } catch (error) {
      if (error instanceof ConsoleUnreachableError) throw error;
      console.log(`! ${(error as Error).message}`);
      pending = undefined;
    }
    prompt();
  }
  close();
  lines.close();
}

async function command(client: ConsoleClient, line: string): Promise<void> {
  const [name, ...args] = line.split(/\s+/);
  const arg = args.join(" ");
  switch (name) {
    case "/model": {
      if (arg) {
        await client.setModel(arg);
        console.log(`model set to ${arg}`);
      } else {
        const { preferences } = await client.memory();
        console.log(`model: ${preferences.model ?? "the default (DEFAULT_MODEL)"}`);
      }
      return;
    }
    case "/forget": {
      const gone = await client.forget();
      console.log(`forgotten: ${gone.messages} messages, ${gone.summaries} summaries`);
      return;
    }
    case "/memory": {
      const memory = await client.memory();
      const prefs = Object.entries(memory.preferences);
      console.log(
        `preferences: ${prefs.length ? prefs.map(([k, v]) => `${k}=${v}`).join(", ") : "none"}`,
      );
      console.log(`running summary: ${memory.runningSummary ?? "none yet"}`);
      console.log(`recalled for the last question: ${memory.recalled.length || "nothing"}`);
      for (const r of memory.recalled) console.log(`  [${r.score.toFixed(2)}] ${r.text}`);
      console.log(`live messages: ${memory.messages.length}`);
      for (const m of memory.messages) console.log(`  ${m.role}: ${m.content}`);
      return;
    }
    default:
      console.log("commands: /model [name], /memory, /forget, /quit");
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(
      error instanceof ConsoleUnreachableError
        ? `npm run chat: ${error.message}`
        : `npm run chat failed: ${(error as Error).message}`,
    );
    process.exit(1);
  },
);
