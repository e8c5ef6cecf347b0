/**
 * Splits `text` into chunks of at most `maxChars` UTF-16 code units, preferring to break at a
 * paragraph, then a line, then a sentence end, then a space, and only then mid-word; never
 * inside a surrogate pair. Chunks keep their order; whitespace at a break is dropped.
 *
 * Platform limits: Slack recommends at most 4000 characters of `text` per message
 * (https://api.slack.com/methods/chat.postMessage#truncating); Discord allows 2000.
 *
 * @throws {RangeError} if `maxChars` < 2.
 */
export function splitMessage(text: string, maxChars: number): string[] {
  if (maxChars < 2) throw new RangeError("maxChars must be at least 2");
  const chunks: string[] = [];
  let rest = text.trim();
  while (rest.length > maxChars) {
    const cut = breakPoint(rest, maxChars);
    const head = rest.slice(0, cut).trimEnd();
    if (head) chunks.push(head);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) chunks.push(rest);
  return chunks;
}

function breakPoint(text: string, maxChars: number): number {
  const window = text.slice(0, maxChars + 1);
  // Do not accept a break in the first third: that would make many tiny chunks.
  const minimum = Math.floor(maxChars / 3);
  for (const separator of ["\n\n", "\n", ". ", " "]) {
    const at = window.lastIndexOf(separator, maxChars - separator.length + 1);
    if (at >= minimum) return at + separator.length;
  }
  const code = text.charCodeAt(maxChars - 1);
  const isHighSurrogate = code >= 0xd800 && code <= 0xdbff;
  return isHighSurrogate ? maxChars - 1 : maxChars;
}
