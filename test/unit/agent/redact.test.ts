import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toolCallRecord } from "../../../core/agent/audit";
import { cutResult, looksSecret, REDACTED, redact, redactText } from "../../../core/agent/redact";

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".split("");
const run = (min: number, max: number, chars = alnum) =>
  fc.array(fc.constantFrom(...chars), { minLength: min, maxLength: max }).map((c) => c.join(""));
const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".split("");

/** Secrets of every shape the redactor knows, as they appear in real text. */
const secret = fc.oneof(
  run(20, 60).map((s) => `sk-ant-${s}`),
  run(20, 40).map((s) => `sk-proj-${s}`),
  fc.tuple(fc.constantFrom("b", "p", "a"), run(10, 30)).map(([kind, s]) => `xox${kind}-1234-${s}`),
  run(36, 36).map((s) => `ghp_${s}`),
  run(16, 16, upper).map((s) => `AKIA${s}`),
  fc.tuple(run(10, 30), run(10, 30), run(10, 40)).map(([a, b, c]) => `eyJ${a}.${b}.${c}`),
  run(20, 200).map((body) => `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`),
  fc
    .uint8Array({ minLength: 48, maxLength: 96 })
    .map((b) => `Zq9${Buffer.from(b).toString("base64")}`),
  fc.uint8Array({ minLength: 32, maxLength: 64 }).map((b) => `a1${Buffer.from(b).toString("hex")}`),
);
/** Text around a secret, ending and starting at a separator as in prose, JSON or a URL. */
const prose = fc.string({ maxLength: 40 });
const separator = fc.constantFrom(" ", "\n", '"', "=", ":", "(", ",");

describe("redact (fast-check, fixed seed)", () => {
  it("leaves no secret-looking run in any text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => !looksSecret(redactText(text))),
      { seed: 12, numRuns: 500 },
    );
  });

  it("removes each known secret shape from the text around it", () => {
    fc.assert(
      fc.property(prose, separator, secret, separator, prose, (a, s1, key, s2, b) => {
        const out = redactText(`${a}${s1}${key}${s2}${b}`);
        expect(out).not.toContain(key);
        expect(out).toContain(REDACTED);
        expect(looksSecret(out)).toBe(false);
      }),
      { seed: 12, numRuns: 400 },
    );
  });

  it("redacts secret fields by name at any depth, and keeps everything else", () => {
    const input = {
      filePath: "/srv/build.tar",
      password: "hunter2",
      nested: [{ api_key: 42, apiKey: "abc", Authorization: "Bearer x", inputTokens: 1200 }],
      credentials: { user: "u", pass: "p" },
      accessToken: "short",
      key: "deploy-notes",
      sshKey: "AAAAB3NzaC1yc2EAAAADAQAB",
      privateKey: "~/.ssh/id_rsa",
      enabled: true,
      url: "https://files-url-1a2b.loca.lt/build.tar",
    };
    expect(redact(input)).toEqual({
      filePath: "/srv/build.tar",
      password: REDACTED,
      nested: [{ api_key: REDACTED, apiKey: REDACTED, Authorization: REDACTED, inputTokens: 1200 }],
      credentials: REDACTED,
      accessToken: REDACTED,
      key: "deploy-notes",
      sshKey: REDACTED,
      privateKey: REDACTED,
      enabled: true,
      url: "https://files-url-1a2b.loca.lt/build.tar",
    });
  });

  it("keeps UUIDs and git commit ids, and survives cycles and deep nesting", () => {
    const text =
      "id 123e4567-e89b-12d3-a456-426614174000 commit 3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6d7e8f901";
    expect(redactText(text)).toBe(text);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ a: 1, self: REDACTED });
    let deep: unknown = "x";
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => JSON.stringify(redact(deep))).not.toThrow();
  });
});

describe("cutResult (fast-check, fixed seed)", () => {
  it("is never over budget and always valid UTF-8, with a note when it cut", () => {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 3000, unit: "binary" }), fc.jsonValue({ maxDepth: 4 })),
        fc.integer({ min: 1, max: 2048 }),
        (value, maxBytes) => {
          const out = cutResult(value, maxBytes);
          const bytes = Buffer.from(out, "utf8");
          expect(bytes.length).toBeLessThanOrEqual(maxBytes);
          expect(() => decoder.decode(bytes)).not.toThrow();
          const full = typeof value === "string" ? value : JSON.stringify(value);
          const fullBytes = Buffer.byteLength(full ?? "null", "utf8");
          if (fullBytes <= maxBytes) expect(out).toBe(Buffer.from(full ?? "null").toString());
          else if (maxBytes >= 64)
            expect(out).toMatch(new RegExp(`\\(cut: \\d+ of ${fullBytes} bytes shown\\)$`));
        },
      ),
      { seed: 12, numRuns: 400 },
    );
  });

  it("cuts at 8 KiB by default and never splits a character", () => {
    const out = cutResult({ text: "é".repeat(10_000) });
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(8192);
    expect(out).not.toContain("\uFFFD");
    expect(out).toMatch(/\(cut: \d+ of 20011 bytes shown\)$/);
  });
});

describe("toolCallRecord", () => {
  it("keeps a redacted input of at most 300 bytes and the redacted result or error", () => {
    const ok = toolCallRecord({
      tool: "cloud_upload_file",
      input: {
        localPath: "/srv/build.tar",
        remotePath: "/B/build.tar",
        token: "xoxb-1-abcdefghij",
        note: "n".repeat(1000),
      },
      result: {
        success: true,
        result: { remotePath: "/B/build.tar" },
        apiKey: "sk-ant-abcdefghijklmnopqrstu",
      },
      durationMs: 1234.6,
    });
    expect(ok.outcome).toBe("ok");
    expect(ok.durationMs).toBe(1235);
    expect(Buffer.byteLength(ok.input)).toBeLessThanOrEqual(300);
    expect(ok.input).toContain("/srv/build.tar");
    expect(ok.input).not.toContain("xoxb");
    expect(JSON.parse(ok.result)).toEqual({
      success: true,
      result: { remotePath: "/B/build.tar" },
      apiKey: REDACTED,
    });
    const failed = toolCallRecord(
      {
        tool: "execute_remote_command",
        input: {},
        error: { kind: "failed", message: "denied for key AKIAABCDEFGHIJKLMNOP" },
        durationMs: 5,
      },
      1024,
    );
    expect(failed).toMatchObject({ outcome: "failed", result: `denied for key ${REDACTED}` });
  });
});
