/**
 * The text around an answer that the turn adds (README, "What people see"): the footer naming
 * the model, and the note that ends an answer the model stopped writing.
 */

/** Ends an answer whose stream failed after its first words (one message, never a second). */
export const CUT_OFF_NOTE = "_(answer cut off: the model stopped responding)_";

/**
 * The footer line under a finished answer: `_claude-sonnet-5-5_`, or
 * `_gpt-5.4 · fell back from claude-sonnet-5-5_` when the first choice failed or was skipped.
 * Italic Markdown, which Slack's `markdown_text` and Discord both render.
 * @param model - concrete id of the model that answered.
 * @param fellBackFrom - concrete id of the model asked first, when another one answered.
 */
export function modelFooter(model: string, fellBackFrom?: string): string {
  return fellBackFrom ? `_${model} · fell back from ${fellBackFrom}_` : `_${model}_`;
}

/**
 * `text` with `paragraph` (the footer, or the cut-off note) as its own last paragraph; `text`
 * alone when `paragraph` is empty or absent.
 */
export function withLastParagraph(text: string, paragraph: string | undefined): string {
  return paragraph ? `${text}\n\n${paragraph}` : text;
}
