/**
 * Ed25519 key handling for `kadi.session.authenticate` (docs/architecture.md, "KĀDI wire protocol"):
 * `publicKey` is base64 of the SPKI DER encoding, `signature` is base64 Ed25519 over the nonce.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";

/**
 * Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as in `KADI_PRIVATE_KEY`) into a key.
 * Literal `\n` sequences are accepted in place of newlines, since env files often carry them so.
 *
 * @throws Error when the PEM is malformed or the key is not Ed25519 (message never echoes the key).
 */
export function loadPrivateKey(pem: string): KeyObject {
  const text = pem.includes("\\n") ? pem.replaceAll("\\n", "\n") : pem;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: "pem" });
  } catch (cause) {
    throw new Error("KADI private key is not a valid PKCS#8 PEM", { cause });
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`KADI private key must be Ed25519, got ${String(key.asymmetricKeyType)}`);
  }
  return key;
}

/** A fresh Ed25519 key pair plus its PKCS#8 PEM (to persist or print on first start). */
export interface GeneratedKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM of `privateKey`, the format `loadPrivateKey` reads. */
  privateKeyPem: string;
}

/** Generates a new Ed25519 key pair. */
export function generateKeyPair(): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privateKeyPem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  return { privateKey, publicKey, privateKeyPem };
}

/**
 * Base64 of the SPKI DER encoding of the public half of `key` (44 bytes for Ed25519), the
 * `publicKey` field of `kadi.session.authenticate`. Accepts a private or a public key.
 */
export function publicKeyBase64(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return pub.export({ format: "der", type: "spki" }).toString("base64");
}

/**
 * Signs a broker nonce: Ed25519 (pure, no pre-hash) over the UTF-8 bytes of the nonce string
 * exactly as received in the `kadi.session.hello` result, returned as base64 (64-byte signature).
 */
export function signNonce(privateKey: KeyObject, nonce: string): string {
  return sign(null, Buffer.from(nonce, "utf8"), privateKey).toString("base64");
}

/**
 * Broker-side check of {@link signNonce}: `publicKeyB64` is base64 SPKI DER, `signatureB64` base64.
 * Returns false (never throws) for malformed keys or signatures.
 */
export function verifyNonceSignature(
  publicKeyB64: string,
  nonce: string,
  signatureB64: string,
): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.from(publicKeyB64, "base64"),
      format: "der",
      type: "spki",
    });
    if (key.asymmetricKeyType !== "ed25519") return false;
    return verify(null, Buffer.from(nonce, "utf8"), key, Buffer.from(signatureB64, "base64"));
  } catch {
    return false;
  }
}
