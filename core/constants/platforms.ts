/**
 * The chat platforms a conversation can live on: the one list every schema, key and tool input
 * takes its platform names from. Adding a platform starts here (see docs/architecture.md,
 * "Adding a platform"). Plain data, so `infra/` may import it too.
 */
export const PLATFORMS = ["slack", "discord", "web"] as const;

/** One of {@link PLATFORMS}. */
export type Platform = (typeof PLATFORMS)[number];

/**
 * The platforms reached from outside, each with a webhook and a KĀDI binding (a
 * `PlatformAdapter`): every platform but `web`, the local stack's console, which has no route
 * on the deployed ingress and no broker channel (docs/architecture.md, "Local console").
 */
export const REMOTE_PLATFORMS = ["slack", "discord"] as const satisfies readonly Platform[];

/** One of {@link REMOTE_PLATFORMS}. */
export type RemotePlatform = (typeof REMOTE_PLATFORMS)[number];

/**
 * Slack's AI-app surface (https://docs.slack.dev/ai/developing-ai-apps): the default suggested
 * prompts of `SLACK_SUGGESTED_PROMPTS`, how many Slack shows
 * (`assistant.threads.setSuggestedPrompts` takes at most 4) and the longest prompt we accept,
 * the title set when a person opens a new assistant thread, and the loading messages of
 * `assistant.threads.setStatus` while the agent works.
 */
export const SLACK_ASSISTANT = {
  suggestedPrompts: [
    "What can you do?",
    "Summarise what we talked about last time",
    "Explain this error message to me",
  ],
  maxPrompts: 4,
  maxPromptChars: 200,
  threadTitle: "New chat",
  status: "is thinking…",
  loadingMessages: ["Thinking…", "Reading our earlier conversation…", "Writing the answer…"],
} as const;

/**
 * What the Approve / Deny buttons of a pending tool call carry: Slack's `action_id` (the
 * button's `value` is the approval id), Discord's `custom_id` prefix (`tool_approve:{id}`).
 */
export const APPROVAL_ACTIONS = { approve: "tool_approve", deny: "tool_deny" } as const;
