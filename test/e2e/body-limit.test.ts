/**
 * Bodies over 1 MiB get 413 from the real local HTTP server (`startLocalStack`: the Hono app on
 * @hono/node-server) without the server reading them: with `Content-Length` the answer comes
 * before the client has sent more than a few KiB; a chunked body is read only up to the limit,
 * then answered and its connection closed. Raw sockets, so the test controls what is sent when.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../core/constants/limits";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { testAws, testConfig } from "../support/aws";
import { signedHeaders, TEST_SIGNING_SECRET } from "../support/slack";

let stack: LocalStack;
let port: number;

beforeAll(async () => {
  const setup = await testAws(
    testConfig({ SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET, PORT: "0" }),
    {
      queue: `body-limit-${Date.now()}`,
    },
  );
  stack = await startLocalStack(setup.config);
  port = Number(new URL(stack.url).port);
});

afterAll(async () => {
  await stack?.stop();
});

/** What one raw exchange gave: the response text, when its status line arrived and the close. */
interface Exchange {
  socket: Socket;
  /** Response bytes so far. */
  response(): string;
  /** Resolves with the status code once the status line is in. */
  status: Promise<number>;
  /** Resolves when the server closed (or reset) the connection. */
  closed: Promise<void>;
}

function open(head: string): Exchange {
  const socket = connect(port, "127.0.0.1");
  let text = "";
  let onStatus: (status: number) => void = () => {};
  const status = new Promise<number>((resolve) => {
    onStatus = resolve;
  });
  socket.on("data", (chunk) => {
    text += chunk.toString("latin1");
    const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
    if (match) onStatus(Number(match[1]));
  });
  // A reset while the client still writes is one way for the server to stop reading.
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.write(head);
  return { socket, response: () => text, status, closed };
}

function responseBody(text: string): unknown {
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  return JSON.parse(body);
}

describe("request bodies over 1 MiB", () => {
  it("answers 413 to a 2 MiB Content-Length before the body is sent", async () => {
    const size = 2 * MAX_BODY_BYTES;
    const exchange = open(
      `POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
    );
    exchange.socket.write("x".repeat(1024));
    // Only the headers and 1 KiB are sent; the rest never is, so a server that read the body
    // would wait forever.
    expect(await exchange.status).toBe(413);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(responseBody(exchange.response())).toEqual({
      error: "payload_too_large",
      limitBytes: MAX_BODY_BYTES,
    });
    exchange.socket.destroy();
  });

  it("answers 413 to a chunked body once it passes 1 MiB, and stops reading it", async () => {
    const exchange = open(
      "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const chunk = "x".repeat(64 * 1024);
    const frame = `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    let sent = 0;
    let stopped = false;
    void exchange.closed.then(() => {
      stopped = true;
    });
    // Keep sending (up to 256 MiB) until the server closes the connection: a server reading the
    // whole body would keep taking it.
    const pump = async () => {
      while (!stopped && sent < 256 * MAX_BODY_BYTES) {
        sent += chunk.length;
        if (!exchange.socket.write(frame)) {
          await Promise.race([
            new Promise((resolve) => exchange.socket.once("drain", resolve)),
            exchange.closed,
          ]);
        }
      }
    };
    void pump();
    expect(await exchange.status).toBe(413);
    await exchange.closed;
    expect(stopped).toBe(true);
    // What was written before the close includes what sat in socket buffers; far below 256 MiB.
    expect(sent).toBeLessThan(64 * MAX_BODY_BYTES);
    expect(responseBody(exchange.response())).toEqual({
      error: "payload_too_large",
      limitBytes: MAX_BODY_BYTES,
    });
  });

  it("reads a body just under the limit (then checks its signature)", async () => {
    const body = JSON.stringify({ type: "event_callback", pad: "p".repeat(MAX_BODY_BYTES - 100) });
    const res = await fetch(`${stack.url}/slack/events`, {
      method: "POST",
      body,
      headers: signedHeaders(body),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, ignored: "event without type" });
  });
});
