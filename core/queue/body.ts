/**
 * The text of a queued message. SQS accepts only `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD
 * | #x10000-#x10FFFF` in a body
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html),
 * and the local emulator (fauxqs) checks that set code unit by code unit, refusing every
 * character outside the Basic Multilingual Plane (emoji, mathematical letters) as a lone
 * surrogate. A body written by {@link toQueueBody} holds only characters both accept.
 */

/** Any UTF-16 code unit outside `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD`. */
const OUTSIDE_SAFE_SET = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd]/g;

/**
 * JSON text of `value` in which every character outside the Basic Multilingual Plane is written
 * as a JSON surrogate-pair escape (`😀` becomes `\ud83d\ude00`), and so are U+FFFE and U+FFFF,
 * which SQS refuses too. `JSON.stringify` already escapes control characters and lone
 * surrogates, and none of the escaped characters can occur outside a JSON string, so
 * `JSON.parse(toQueueBody(v))` equals `JSON.parse(JSON.stringify(v))` exactly.
 *
 * @returns a body made only of characters in SQS's allowed set and in the BMP.
 * @throws {TypeError} when `value` cannot be serialised (a cycle or a BigInt).
 */
export function toQueueBody(value: unknown): string {
  return JSON.stringify(value).replace(
    OUTSIDE_SAFE_SET,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
