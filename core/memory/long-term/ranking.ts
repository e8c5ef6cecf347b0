import MiniSearch from "minisearch";
import type { SummaryHit, SummaryQuery, SummaryRecord } from "./types";

/**
 * Words too common in English chat to say anything about relevance. BM25's IDF already damps
 * them, but on one user's handful of summaries IDF is noisy, so they are dropped outright.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a an and are as at be but by can did do does for from had has have he her his how i if in " +
    "into is it its me my no not of on or our she so that the their them then there these they " +
    "this to was we were what when where which who why will with would you your"
  ).split(" "),
);

/**
 * The term filter used for both indexing and queries: lower-case, drop stop words and
 * single characters. No stemming, so "deploy" and "deployment" are different terms.
 */
export function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  return lower.length < 2 || STOP_WORDS.has(lower) ? null : lower;
}

/**
 * An empty MiniSearch index over summary `text` with the embedded backend's ranking: BM25+
 * (MiniSearch defaults k1 = 1.2, b = 0.7, δ = 0.5), terms combined with OR, query terms of 4+
 * characters also matching as prefixes, no fuzzy matching, terms filtered by
 * {@link processTerm}. Documents are keyed by summary id; nothing is stored in the index (the
 * caller keeps the records). See https://lucaong.github.io/minisearch/.
 */
export function createSummaryIndex(): MiniSearch<SummaryRecord> {
  return new MiniSearch<SummaryRecord>({
    idField: "id",
    fields: ["text"],
    storeFields: [],
    processTerm,
    // Prefix matching of query terms of 4+ characters lets "decide" find "decided" and
    // "upgrad" find "upgrading" (MiniSearch weighs such matches at 0.375 of an exact one). On the
    // paraphrased relevance set (test/integration/long-term-relevance.test.ts) it lifts MRR from
    // 0.250 to 0.375 and keeps the keyword set at 1.000; a Porter stemmer measured no better.
    searchOptions: { combineWith: "OR", prefix: (term) => term.length >= 4, fuzzy: false },
  });
}

/**
 * Searches `index` for `query.text`: hits best first, ties broken newest first, at most
 * `query.limit`; results whose id is not in `byId` are skipped. Relies on MiniSearch returning
 * results sorted by score (https://lucaong.github.io/minisearch/classes/MiniSearch.MiniSearch.html#search).
 */
export function searchSummaryIndex(
  index: MiniSearch<SummaryRecord>,
  byId: ReadonlyMap<string, SummaryRecord>,
  query: SummaryQuery,
): SummaryHit[] {
  if (query.limit <= 0) return [];
  const hits: SummaryHit[] = [];
  // MiniSearch returns results best first, so once `limit` hits are in hand only ties with the
  // last one can still matter: stopping there keeps a common term (one that matches every
  // summary) from costing a lookup and a sort over thousands of results.
  for (const result of index.search(query.text)) {
    const last = hits[query.limit - 1];
    if (last && result.score < last.score) break;
    const summary = byId.get(String(result.id));
    if (summary) hits.push({ summary, score: result.score });
  }
  hits.sort((a, b) => b.score - a.score || b.summary.createdAt - a.summary.createdAt);
  return hits.slice(0, query.limit);
}

/**
 * One-shot ranking over `records` (only those owned by the query's user are considered): builds
 * a fresh {@link createSummaryIndex} and searches it. What the embedded backend did on every
 * turn before the per-container cache; kept for tests and the recall benchmark's baseline.
 */
export function rankSummaries(
  records: readonly SummaryRecord[],
  query: SummaryQuery,
): SummaryHit[] {
  const own = records.filter((r) => r.userId === query.userId && r.platform === query.platform);
  if (own.length === 0 || query.limit <= 0) return [];
  const index = createSummaryIndex();
  index.addAll(own);
  return searchSummaryIndex(index, new Map(own.map((r) => [r.id, r])), query);
}
