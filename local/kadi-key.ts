import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { generateKeyPair, loadPrivateKey, publicKeyBase64 } from "../core/kadi/keys";

/** File under `DATA_DIR` holding the local stack's generated KĀDI key (PKCS#8 PEM, mode 0600). */
export const AGENT_KEY_FILE = "kadi-agent.pem";

/** The agent's KĀDI key as the local stack uses it. */
export interface LocalAgentKey {
  /** PKCS#8 PEM, the format of `KADI_PRIVATE_KEY`. */
  privateKeyPem: string;
  /** Base64 SPKI DER of the public key: what the broker's operator registers or allows. */
  publicKeyBase64: string;
  /** Where the key came from. */
  source: "KADI_PRIVATE_KEY" | "file" | "generated";
  /** The key file, for `file` and `generated`. */
  path?: string;
}

/**
 * The key of the local stack's broker sessions: `KADI_PRIVATE_KEY` when set; else the one saved
 * at `{dataDir}/kadi-agent.pem` by an earlier start; else a new Ed25519 key, written there with
 * mode 0600 so the agent keeps its identity across restarts.
 *
 * @throws Error when the saved file is not an Ed25519 PKCS#8 PEM, or cannot be read or written.
 */
export async function loadOrCreateAgentKey(
  dataDir: string,
  configuredPem: string | undefined,
): Promise<LocalAgentKey> {
  if (configuredPem) {
    return {
      privateKeyPem: configuredPem,
      publicKeyBase64: publicKeyBase64(loadPrivateKey(configuredPem)),
      source: "KADI_PRIVATE_KEY",
    };
  }
  const path = join(dataDir, AGENT_KEY_FILE);
  let saved: string | undefined;
  try {
    saved = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (saved !== undefined) {
    return {
      privateKeyPem: saved,
      publicKeyBase64: publicKeyBase64(loadPrivateKey(saved)),
      source: "file",
      path,
    };
  }
  const generated = generateKeyPair();
  await mkdir(dirname(path), { recursive: true });
  // `wx`: never overwrite a key another process saved in the meantime.
  await writeFile(path, generated.privateKeyPem, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
  return {
    privateKeyPem: generated.privateKeyPem,
    publicKeyBase64: publicKeyBase64(generated.publicKey),
    source: "generated",
    path,
  };
}
