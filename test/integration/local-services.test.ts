import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { describe, expect, inject, it } from "vitest";
import { LOOPBACK_HOST } from "../../local/services";

/**
 * The emulators `npm start` and the tests run check no credentials, so they must listen on
 * 127.0.0.1 only. These are the instances test/global-setup.ts started with the same
 * functions the local stack uses (`startDynamoDbLocal`, `startSqsEmulator`).
 */

/** Resolves with how a TCP connection to `host:port` went: "connected" or the error code. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("ETIMEDOUT");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** This machine's addresses other than loopback (IPv4 and global IPv6; link-local needs a scope). */
function nonLoopbackAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal)
    .filter((a) => a.family === "IPv4" || !a.address.toLowerCase().startsWith("fe80"))
    .map((a) => a.address);
}

const emulators = [
  ["DynamoDB Local", inject("dynamodbEndpoint")],
  ["the SQS emulator (fauxqs)", inject("sqsEndpoint")],
] as const;

const outside = nonLoopbackAddresses();
const hasIpv4 = outside.some((address) => address.includes("."));

describe.each(emulators)("%s", (_name, endpoint) => {
  const port = Number(new URL(endpoint).port);

  it("is reached at 127.0.0.1", async () => {
    expect(new URL(endpoint).hostname).toBe(LOOPBACK_HOST);
    expect(await tryConnect(LOOPBACK_HOST, port)).toBe("connected");
  });

  // Skipped only on a machine with no network interface but loopback: then nothing outside
  // could reach the emulator anyway.
  it.skipIf(!hasIpv4)("refuses connections on the machine's other addresses", async () => {
    for (const address of outside) {
      expect({ address, outcome: await tryConnect(address, port) }).toEqual({
        address,
        outcome: "ECONNREFUSED",
      });
    }
  });
});
