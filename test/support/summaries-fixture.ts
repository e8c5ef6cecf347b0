/**
 * A labelled relevance set for the long-term search backends: realistic archived-conversation
 * summaries of one user, plus queries (phrased like a new chat message) that each have exactly
 * one relevant summary. Also a second user's summaries that overlap in vocabulary, for scoping.
 */

import { summaryId } from "../../core/memory/long-term/summaries";
import type { SummaryRecord } from "../../core/memory/long-term/types";
import { type ConversationRef, messageIdOf } from "../../core/memory/table/keys";

/** The user owning {@link fixtureSummaries}. */
export const FIXTURE_CONVERSATION: ConversationRef = {
  platform: "slack",
  channelId: "C0RELEVANCE",
  userId: "U0RELEVANCE",
};

/** Another user on the same platform and channel, with look-alike summaries. */
export const OTHER_CONVERSATION: ConversationRef = {
  platform: "slack",
  channelId: "C0RELEVANCE",
  userId: "U0OTHER",
};

const TEXTS: Record<string, string> = {
  "db-migration":
    "Discussed migrating the billing service from PostgreSQL 13 to 16. Decided to use logical " +
    "replication with pglogical and cut over on a Saturday night. Maria owns the runbook; open " +
    "question: whether the read replicas need a rebuild.",
  kubernetes:
    "Debugged CrashLoopBackOff in the ingest pods on the staging Kubernetes cluster; the cause " +
    "was a missing ConfigMap key LOG_FORMAT. Fixed by adding it to the Helm values. Follow-up: " +
    "add a readiness probe.",
  vacation:
    "The user is planning a two-week trip to Japan in April: Tokyo, Kyoto and Osaka. Asked " +
    "about the JR rail pass and decided to buy the 14-day pass. Still open: a ryokan in Hakone " +
    "for two nights.",
  hiring:
    "Interview loop for the senior frontend engineer role with candidates Priya and Tom. Agreed " +
    "on a take-home React exercise capped at three hours. Offer decision due Friday; salary " +
    "band approved by Dana.",
  sourdough:
    "Shared a sourdough recipe: 500 g flour, 350 g water, 100 g starter, 10 g salt, cold " +
    "retard overnight in the fridge. The user's bread was dense, likely underproofed; try a " +
    "longer bulk fermentation.",
  budget:
    "Q3 marketing budget review: 120k EUR in total, 40 percent to paid search, the KubeCon " +
    "sponsorship was cut. Open question whether to renew the HubSpot contract in September.",
  laptop:
    "The user's MacBook Pro battery drains overnight; found Docker Desktop and a stuck " +
    "Spotlight index. Recommended resetting the SMC and excluding node_modules folders from " +
    "Spotlight.",
  "rate-limit":
    "The partner API returns HTTP 429 during the nightly sync. Agreed to add exponential " +
    "backoff with jitter and to cap concurrency at 4 requests. Contact at the partner is Kenji, " +
    "who may raise the quota.",
  wedding:
    "Planning the wedding speech for the user's sister Anna: three minutes, one story about " +
    "the camping trip in Norway, a toast at the end. Draft due next week.",
  tax:
    "Freelance tax questions in Germany: quarterly VAT advance returns through ELSTER, the " +
    "Kleinunternehmer threshold and deductible home-office costs. Recommended a Steuerberater " +
    "before filing.",
  garden:
    "Tomato plants on the balcony have yellow leaves with brown spots, probably early blight. " +
    "Advised removing affected leaves, watering at the base and a copper fungicide. The user " +
    "also grows basil and chili.",
  "security-incident":
    "A leaked AWS access key was found in a public GitHub repository. The key was rotated, " +
    "CloudTrail was reviewed for misuse and git-secrets was added as a pre-commit hook. " +
    "Post-mortem scheduled with Omar.",
  running:
    "Training plan for the Berlin half marathon in October: four runs a week, the long run " +
    "growing to 18 km, target pace 5:30 per km. The user has a sore left knee; suggested " +
    "strength work and a physio visit.",
  car:
    "Compared a used Skoda Octavia estate with a Toyota Corolla hybrid. Decided the hybrid " +
    "suits city driving better; still open is financing versus paying cash.",
  "board-slides":
    "Prepared slides for the Thursday board meeting on churn: churn fell from 4.1 to 3.2 " +
    "percent after the onboarding emails. Nadia wants a cohort chart added.",
  packaging:
    "Moved the internal CLI from setup.py to pyproject.toml with uv, pinned dependencies in " +
    "uv.lock and published to the private package index. Open: dropping Python 3.9 support.",
};

const BASE_TIME = Date.UTC(2025, 0, 6, 9, 0, 0);

function record(conversation: ConversationRef, text: string, i: number): SummaryRecord {
  const createdAt = BASE_TIME + i * 86_400_000;
  // Each archived chunk of 40 messages: ids are the conversation's sequence numbers.
  const toMessageId = messageIdOf((i + 1) * 40);
  return {
    id: summaryId(conversation, toMessageId),
    platform: conversation.platform,
    userId: conversation.userId,
    channelId: conversation.channelId,
    text,
    fromMessageId: messageIdOf(i * 40 + 1),
    toMessageId,
    messageCount: 20 + i,
    model: "claude-haiku-fixture",
    createdAt,
  };
}

/** The 16 summaries of {@link FIXTURE_CONVERSATION}'s user, keyed by a short topic name. */
export const fixtureSummaryByKey: Readonly<Record<string, SummaryRecord>> = Object.fromEntries(
  Object.entries(TEXTS).map(([key, text], i) => [key, record(FIXTURE_CONVERSATION, text, i)]),
);

/** {@link fixtureSummaryByKey} as a list, in topic order. */
export const fixtureSummaries: readonly SummaryRecord[] = Object.values(fixtureSummaryByKey);

/**
 * Summaries of {@link OTHER_CONVERSATION}'s user that share vocabulary with the fixture
 * queries: a scoped search must never return them.
 */
export const otherUserSummaries: readonly SummaryRecord[] = [
  record(
    OTHER_CONVERSATION,
    "Upgraded PostgreSQL for the billing team; logical replication lag was the only issue.",
    100,
  ),
  record(OTHER_CONVERSATION, "My bread was dense and flat; sourdough starter was too young.", 101),
];

/** A query and the id of the one summary that answers it. */
export interface LabelledQuery {
  text: string;
  relevantKey: string;
  relevantId: string;
}

const QUERIES: ReadonlyArray<readonly [text: string, key: string]> = [
  ["remind me of the plan for the PostgreSQL move of the billing service", "db-migration"],
  ["the staging pods keep crashing again, what was the cause last time?", "kubernetes"],
  ["which rail pass should I buy for Japan?", "vacation"],
  ["how did the frontend interviews go, any offer decision yet?", "hiring"],
  ["my bread came out dense again", "sourdough"],
  ["should we renew HubSpot this year?", "budget"],
  ["my MacBook battery is empty every morning", "laptop"],
  ["the partner sync is failing with 429 errors again", "rate-limit"],
  ["was the leaked key rotated and when is the post-mortem?", "security-incident"],
  ["how many km should my long run be before the half marathon?", "running"],
  ["what was wrong with the tomato leaves?", "garden"],
  ["do I need to file VAT returns as a freelancer?", "tax"],
];

/** The labelled queries over {@link fixtureSummaries}. */
export const labelledQueries: readonly LabelledQuery[] = QUERIES.map(([text, key]) => {
  const relevant = fixtureSummaryByKey[key];
  if (!relevant) throw new Error(`fixture query refers to unknown summary ${key}`);
  return { text, relevantKey: key, relevantId: relevant.id };
});

/**
 * Harder queries: paraphrases that share few words with their summary (synonyms, other word
 * forms), as people ask weeks later. Lexical BM25 without stemming or synonyms is expected to
 * miss some; the figure is reported, and only a floor is asserted.
 */
const PARAPHRASED: ReadonlyArray<readonly [text: string, key: string]> = [
  ["what were the steps for upgrading our database?", "db-migration"],
  ["why did the containers keep restarting?", "kubernetes"],
  ["where am I staying near Mount Fuji?", "vacation"],
  ["did we pick someone for the React job?", "hiring"],
  ["how long should the dough rise?", "sourdough"],
  ["how much money goes to ads this quarter?", "budget"],
  ["my notebook is flat every morning", "laptop"],
  ["who can lift the throttling limit?", "rate-limit"],
  ["what did we do about the exposed credentials?", "security-incident"],
  ["my knee hurts when jogging", "running"],
  ["the balcony vegetables look sick", "garden"],
  ["which vehicle did I decide on?", "car"],
];

/** The paraphrased queries over {@link fixtureSummaries}. */
export const paraphrasedQueries: readonly LabelledQuery[] = PARAPHRASED.map(([text, key]) => {
  const relevant = fixtureSummaryByKey[key];
  if (!relevant) throw new Error(`fixture query refers to unknown summary ${key}`);
  return { text, relevantKey: key, relevantId: relevant.id };
});

/**
 * Mean reciprocal rank: the mean over queries of 1 / (1-based rank of the relevant id in
 * `rankedIds`), counting a miss as 0.
 */
export function meanReciprocalRank(
  results: ReadonlyArray<{ relevantId: string; rankedIds: readonly string[] }>,
): number {
  if (results.length === 0) return 0;
  const sum = results.reduce((acc, r) => {
    const rank = r.rankedIds.indexOf(r.relevantId);
    return acc + (rank < 0 ? 0 : 1 / (rank + 1));
  }, 0);
  return sum / results.length;
}
