import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toQueueBody } from "../../core/queue/body";

/** SQS's allowed set, read code unit by code unit as the local emulator reads it. */
const SQS_SAFE_BMP = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd]*$/;

/** Any string of UTF-16 code units, including lone surrogates, U+FFFE and U+FFFF. */
const anyUtf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
});

/** Any string of Unicode scalar values, astral planes included. */
const anyUnicode = fc.string({ unit: "binary" });

describe("toQueueBody", () => {
  it("round-trips any text through JSON.parse and writes only BMP characters SQS accepts", () => {
    fc.assert(
      fc.property(fc.oneof(anyUtf16, anyUnicode), (text) => {
        const body = toQueueBody({ text });
        expect(body).toMatch(SQS_SAFE_BMP);
        expect(JSON.parse(body)).toEqual({ text });
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips nested values exactly as JSON.stringify does", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const body = toQueueBody(value);
        expect(body).toMatch(SQS_SAFE_BMP);
        expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("writes an emoji and a mathematical letter as surrogate-pair escapes", () => {
    const body = toQueueBody({ text: "a 😀 𝔼" });
    expect(body).toBe(String.raw`{"text":"a \ud83d\ude00 \ud835\udd3c"}`);
    expect(JSON.parse(body).text).toBe("a 😀 𝔼");
  });
});
