/**
 * Deterministic, realistic-looking data for `bench/memory-recall.ts`: ~100-word summaries of
 * archived chat conversations and chat messages to recall them with. Seeded, so every run
 * indexes and asks the same text.
 */

const TOPICS = [
  ["migrating the billing service from PostgreSQL 13 to 16", "logical replication", "cutover"],
  ["flaky readiness probes in the staging Kubernetes cluster", "Helm values", "ConfigMap"],
  ["a two-week trip to Japan in April", "JR rail pass", "ryokan in Hakone"],
  ["hiring a senior frontend engineer", "take-home React exercise", "salary band"],
  ["a dense sourdough loaf", "bulk fermentation", "starter hydration"],
  ["the Q3 marketing budget", "paid search", "HubSpot renewal"],
  ["a MacBook battery draining overnight", "Docker Desktop", "Spotlight index"],
  ["HTTP 429 errors from the partner API", "exponential backoff", "quota increase"],
  ["the wedding speech for a sister", "camping story", "toast"],
  ["freelance VAT returns in Germany", "ELSTER", "home-office deduction"],
  ["tomato plants with yellow leaves", "early blight", "copper fungicide"],
  ["a leaked AWS access key", "CloudTrail review", "git-secrets hook"],
  ["a half marathon training plan", "long run", "sore knee"],
  ["buying a used hybrid car", "financing", "city driving"],
  ["board slides on churn", "cohort chart", "onboarding emails"],
  ["moving a Python CLI to pyproject.toml", "uv lockfile", "private index"],
  ["a slow GraphQL endpoint", "N+1 queries", "DataLoader batching"],
  ["renovating the kitchen", "contractor quotes", "induction hob"],
  ["learning Spanish before a move", "evening classes", "DELE exam"],
  ["an on-call incident with Kafka consumer lag", "rebalancing", "partition count"],
] as const;

const PEOPLE = ["Maria", "Kenji", "Priya", "Omar", "Dana", "Tom", "Nadia", "Lukas", "Aiko", "Sam"];
const WHEN = ["on Monday", "next week", "before Friday", "at the end of the month", "in Q4"];
const FILLER = [
  "The user wanted a short checklist and asked to be reminded of the open points later.",
  "Several alternatives were compared and their trade-offs written down for the team.",
  "The assistant suggested measuring first and revisiting the decision with real numbers.",
  "Costs, risks and the rollback plan were discussed in some detail before agreeing.",
  "A follow-up conversation is expected once the first results are in.",
];

/** Small deterministic PRNG (mulberry32), so runs are comparable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** The `n`-th summary text (~100 words), deterministic in `n`. */
export function summaryText(n: number): string {
  const random = prng(n + 1);
  const [topic, a, b] = pick(random, TOPICS);
  const who = pick(random, PEOPLE);
  const other = pick(random, PEOPLE);
  return [
    `Conversation ${n} was about ${topic}.`,
    `The user and ${who} went through the options around ${a} and agreed to try ${b} first.`,
    `${other} raised a concern about the timeline, so the decision is due ${pick(random, WHEN)}.`,
    pick(random, FILLER),
    pick(random, FILLER),
    `Open questions: whether ${a} needs another review and who owns ${b} afterwards.`,
    `${who} will share notes ${pick(random, WHEN)}, and the user wants a summary of ${topic}.`,
  ].join(" ");
}

/** `count` chat messages of the kind that trigger recall, deterministic. */
export function chatMessages(count: number): string[] {
  const random = prng(4242);
  const forms = [
    (t: string, x: string) => `hey, what did we decide about ${x} for ${t}?`,
    (_: string, x: string) => `remind me who owns ${x} again`,
    (t: string) => `can you summarise where we are with ${t}`,
    (_: string, x: string) => `is ${x} still the plan or did we drop it?`,
    (t: string, x: string) =>
      `${pick(random, PEOPLE)} asked me about ${x}, what was the deadline for ${t}?`,
  ];
  return Array.from({ length: count }, () => {
    const [topic, a, b] = pick(random, TOPICS);
    return pick(random, forms)(topic, random() < 0.5 ? a : b);
  });
}
