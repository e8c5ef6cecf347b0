/**
 * The SST secret store's process plumbing, with a stand-in for the SST CLI (a node script that
 * records its argv and stdin), since the real CLI needs an AWS account.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createSstSecretStore,
  MODEL_MANAGER_SECRET_NAME,
  SecretStoreError,
} from "../../core/ops/gateway/secret-store";
import { rejection } from "../support/rejection";

const dir = mkdtempSync(join(tmpdir(), "sst-secret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `node -e <script> <record> <exit code> …args`: writes `{argv, stdin}` to `record`, echoes
 * stdin to stderr (as a careless CLI might), exits with the given code.
 */
const STAND_IN = `
const [record, code, ...args] = process.argv.slice(1);
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const stdin = Buffer.concat(chunks).toString("utf8");
  require("node:fs").writeFileSync(record, JSON.stringify({ args, stdin }));
  if (code !== "0") process.stderr.write("Could not set secret: " + stdin + "\\n");
  process.exit(Number(code));
});`;

function standIn(name: string, exitCode: number) {
  const record = join(dir, `${name}.json`);
  const store = createSstSecretStore({
    stage: "production",
    command: [process.execPath, "-e", STAND_IN, record, String(exitCode)],
  });
  const recorded = () =>
    JSON.parse(readFileSync(record, "utf8")) as { args: string[]; stdin: string };
  return { store, recorded };
}

const KEY = "sk-gateway-0123456789abcdef";

describe("createSstSecretStore", () => {
  it("runs `secret set <name> --stage <stage>` with the value on stdin only", async () => {
    const { store, recorded } = standIn("ok", 0);
    await store.set(MODEL_MANAGER_SECRET_NAME, KEY);

    expect(recorded()).toEqual({
      args: ["secret", "set", "ModelManagerApiKey", "--stage", "production"],
      stdin: KEY,
    });
    expect(store.description).toBe("SST secret (stage production)");
  });

  it("keeps the value byte for byte (no trailing newline added)", async () => {
    const { store, recorded } = standIn("bytes", 0);
    await store.set("Pem", "line one\nline two ✓");
    expect(recorded().stdin).toBe("line one\nline two ✓");
  });

  it("rejects with the exit code and the CLI's output, with the value redacted", async () => {
    const { store } = standIn("fail", 1);
    const error = await rejection(store.set(MODEL_MANAGER_SECRET_NAME, KEY));

    expect(error).toBeInstanceOf(SecretStoreError);
    expect(error).toMatchObject({ exitCode: 1 });
    const message = (error as Error).message;
    expect(message).toBe(
      "sst secret set ModelManagerApiKey exited with 1: Could not set secret: [redacted]",
    );
    expect(message).not.toContain(KEY);
  });

  it("rejects when the CLI cannot be started", async () => {
    const store = createSstSecretStore({ stage: "dev", command: [join(dir, "no-such-sst")] });
    const error = await rejection(store.set("Name", "value"));
    expect(error).toBeInstanceOf(SecretStoreError);
    expect((error as Error).message).toMatch(/^could not run .*no-such-sst: .*ENOENT/);
  });
});
