/**
 * Where the bootstrap puts the generated gateway key. Production uses SST's secret store
 * (`sst secret set`), so `sst.Secret("ModelManagerApiKey")` in `infra/secrets.ts` hands it to
 * the functions as `MODEL_MANAGER_API_KEY`; tests pass their own {@link SecretStore}.
 */
import { spawn } from "node:child_process";

/** Name of the SST secret holding the gateway key (`infra/secrets.ts`). */
export const MODEL_MANAGER_SECRET_NAME = "ModelManagerApiKey";

/** Writes one named secret. Rejects with {@link SecretStoreError}. */
export interface SecretStore {
  /** Where values go, for messages, e.g. `SST secret (stage production)`; never a value. */
  readonly description: string;
  set(name: string, value: string): Promise<void>;
}

/** A secret could not be stored. The message never contains the value. */
export class SecretStoreError extends Error {
  override readonly name = "SecretStoreError";
  constructor(
    message: string,
    /** Exit code of the store's process, when it ran. */
    readonly exitCode?: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Options of {@link createSstSecretStore}. */
export interface SstSecretStoreOptions {
  /** SST stage, passed as `--stage`. */
  stage: string;
  /** Directory holding `sst.config.ts`; default the current directory. */
  cwd?: string;
  /** Program and leading arguments that run the SST CLI; default `["npx", "sst"]`. */
  command?: readonly string[];
  /** Kill the CLI after this many ms; default 300000 (it may first install its providers). */
  timeoutMs?: number;
}

/** Longest CLI output tail carried into an error message, characters. */
const MAX_OUTPUT_TAIL = 500;

/**
 * Runs `sst secret set <name> --stage <stage>` with the value on stdin. The SST CLI reads the
 * value from stdin when the positional value is omitted and stdin is not a terminal, keeping it
 * byte-for-byte (`sst secret set Key < tmp.txt` in `sst secret set --help`; `CmdSecretSet` in
 * the SST source), so the key never appears in argv, `ps` output or shell history. The child
 * inherits this process's environment (AWS credentials for SST's secret bucket).
 */
export function createSstSecretStore(options: SstSecretStoreOptions): SecretStore {
  const [program = "npx", ...leading] = options.command ?? ["npx", "sst"];
  const timeoutMs = options.timeoutMs ?? 300_000;
  return {
    description: `SST secret (stage ${options.stage})`,
    set: (name, value) =>
      new Promise<void>((resolve, reject) => {
        const args = [...leading, "secret", "set", name, "--stage", options.stage];
        const child = spawn(program, args, {
          cwd: options.cwd,
          stdio: ["pipe", "pipe", "pipe"],
          timeout: timeoutMs,
        });
        let output = "";
        const collect = (chunk: Buffer) => {
          output = (output + chunk.toString("utf8")).slice(-4 * MAX_OUTPUT_TAIL);
        };
        child.stdout.on("data", collect);
        child.stderr.on("data", collect);
        child.on("error", (cause) =>
          reject(
            new SecretStoreError(`could not run ${program}: ${cause.message}`, null, { cause }),
          ),
        );
        child.on("close", (code, signal) => {
          if (code === 0) return resolve();
          const tail = redact(output, value).trim().slice(-MAX_OUTPUT_TAIL);
          const how = signal ? `was killed (${signal})` : `exited with ${code}`;
          reject(
            new SecretStoreError(`sst secret set ${name} ${how}${tail ? `: ${tail}` : ""}`, code),
          );
        });
        // EPIPE when the CLI exits before reading; its exit status reports the real problem.
        child.stdin.on("error", () => {});
        child.stdin.end(value);
      }),
  };
}

function redact(text: string, secret: string): string {
  return secret ? text.replaceAll(secret, "[redacted]") : text;
}
