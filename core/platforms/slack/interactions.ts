/**
 * Slack's interactivity webhook, `POST /slack/interactions`
 * (https://api.slack.com/interactivity/handling#payloads): the Approve / Deny buttons of a
 * pending tool call, as steps of the shared ingress pipeline (`core/ingress/pipeline.ts`).
 * Loaded by the Slack adapter with a dynamic `import()` on the route's first request.
 */
import * as z from "zod";
import type { Config } from "../../config";
import { APPROVAL_ACTIONS } from "../../constants/platforms";
import { SLACK_RESPONSE_URL_TIMEOUT_MS } from "../../constants/timings";
import { type Refusal, refuse, type Webhook, type WebhookRoute } from "../../ingress/pipeline";
import type { IngressResponse } from "../../ingress/types";
import { describeIssue } from "../../ingress/zod-issue";
import type { ApprovalDecider, WebhookServices } from "../adapter";
import { CLICK_UNAVAILABLE_TEXT, decideClick } from "../approval-click";
import { verifySlackRequest } from "./verify";

/** Dedupe scope of the resume jobs a click enqueues (ids `approval:{approvalId}`). */
export const SLACK_INTERACTION_SCOPE = "slack-interaction";

const id = z.string().min(1).max(64);

/**
 * The `block_actions` fields this webhook reads
 * (https://api.slack.com/reference/interaction-payloads/block-actions). Slack sends many more,
 * some `null` (`team` in an org-wide app, `channel` in a modal): unknown fields are ignored and
 * only what is read is required.
 */
export const blockActionsSchema = z.object({
  type: z.literal("block_actions"),
  user: z.object({ id }),
  actions: z
    .array(
      z.object({
        action_id: z.string().min(1).max(255),
        value: z.string().max(2000).nullish(),
      }),
    )
    .min(1)
    .max(25),
  /** Absent for actions in a modal; ours are in messages. */
  response_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .nullish(),
});

/** See {@link blockActionsSchema}. */
export type BlockActions = z.infer<typeof blockActionsSchema>;

/** 200 with an empty body: Slack's acknowledgement of an interaction. */
const ACK: IngressResponse = { status: 200, body: undefined };

/**
 * The interactivity webhook: verify the `v0` signature on the raw body, read the
 * `payload=<JSON>` form field, and for a click on `tool_approve` / `tool_deny` (the button's
 * `value` is the approval id) record the decision of `user.id` (`services.approvals`). A
 * decision enqueues the resume job (`approval:{approvalId}`, dedupe scope
 * {@link SLACK_INTERACTION_SCOPE}) and is acked; when it could not be queued the decision is
 * reopened. A refused click (not the requester, already decided, expired) is acked too, and the
 * clicker is told why with an ephemeral message posted to the payload's `response_url` (Slack
 * shows nothing for a body answered to `block_actions`). That POST is made before the ack,
 * bounded by `SLACK_RESPONSE_URL_TIMEOUT_MS`, so the ack stays within Slack's 3 s.
 *
 * Statuses: 200 with an empty body for every click and for other interaction types (shortcuts,
 * `view_submission`: ignored); 400 a body without `payload`, a payload that is not JSON or has
 * no string `type`, or a `block_actions` payload missing a field read above (named); 401 bad,
 * stale or missing signature; 503 Slack not configured.
 */
export function slackInteractionsWebhook(
  config: Pick<Config, "slack">,
  services: Pick<WebhookServices, "approvals">,
  options: { fetch?: typeof fetch } = {},
): Webhook<BlockActions | { type: "ignored" }> {
  const { signingSecret } = config.slack;
  const post = options.fetch ?? fetch;
  return {
    name: "slack interaction",
    scope: SLACK_INTERACTION_SCOPE,
    verify: (request, nowSeconds) => verifySlackRequest(signingSecret, request, nowSeconds),
    parse: parseInteraction,
    route: (payload) =>
      payload.type === "block_actions"
        ? routeClick(payload, services.approvals, post)
        : {
            action: "respond",
            response: ACK,
            log: { level: "debug", outcome: "ignored", reason: "not block_actions" },
          },
    // Slack does not retry an interaction: a 5xx only shows the clicker an error icon. The
    // clicker was told through `response_url` already (`onNotQueued`).
    unavailable: () => ACK,
  };
}

async function routeClick(
  payload: BlockActions,
  approvals: ApprovalDecider,
  post: typeof fetch,
): Promise<WebhookRoute> {
  const index = payload.actions.findIndex(
    (a) => a.action_id === APPROVAL_ACTIONS.approve || a.action_id === APPROVAL_ACTIONS.deny,
  );
  const action = payload.actions[index];
  if (!action) {
    return {
      action: "respond",
      response: ACK,
      log: { level: "debug", outcome: "ignored", reason: "not an approval button" },
    };
  }
  if (!action.value) {
    const error = `invalid_interaction: actions.${index}.value missing`;
    return {
      action: "respond",
      response: { status: 400, body: { error } },
      log: { level: "warn", outcome: "refused", reason: error },
    };
  }
  const decision = action.action_id === APPROVAL_ACTIONS.approve ? "approve" : "deny";
  const click = { approvalId: action.value, userId: payload.user.id, decision } as const;
  const keys = { approvalId: click.approvalId, decision };
  const tell = (text: string) => tellClicker(post, payload.response_url, text);
  const outcome = await decideClick(approvals, click);
  if (!outcome.ok) {
    const told = await tell(outcome.text);
    if (outcome.reason === "unavailable") {
      return {
        action: "unavailable",
        error: "store_unavailable",
        cause: outcome.cause,
        keys: { ...keys, told },
      };
    }
    return {
      action: "respond",
      response: ACK,
      log: { level: "info", outcome: "refused", reason: outcome.reason, keys: { ...keys, told } },
    };
  }
  return {
    action: "enqueue",
    id: outcome.job.jobId,
    job: outcome.job,
    answers: { queued: ACK, duplicate: ACK },
    keys,
    onNotQueued: async () => {
      await approvals.reopen(click.approvalId);
      await tell(CLICK_UNAVAILABLE_TEXT);
    },
  };
}

/**
 * Posts an ephemeral message to the clicker through `responseUrl`
 * (https://api.slack.com/interactivity/handling#message_responses): only they see it, and the
 * message with the buttons stays as it is.
 * @returns `ok`, `no_response_url`, `http_{status}` or `failed` (a timeout or network
 *   error), for the log. Never throws.
 */
async function tellClicker(
  post: typeof fetch,
  responseUrl: string | null | undefined,
  text: string,
): Promise<string> {
  if (!responseUrl) return "no_response_url";
  try {
    const res = await post(responseUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_type: "ephemeral", replace_original: false, text }),
      signal: AbortSignal.timeout(SLACK_RESPONSE_URL_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.ok ? "ok" : `http_${res.status}`;
  } catch {
    return "failed";
  }
}

/**
 * Reads the `application/x-www-form-urlencoded` body's `payload` field as JSON. Types other
 * than `block_actions` are acked unread: Slack sends every interaction of the app here.
 */
function parseInteraction(
  rawBody: string,
): { ok: true; value: BlockActions | { type: "ignored" } } | Refusal {
  const field = new URLSearchParams(rawBody).get("payload");
  if (field === null) return refuse(400, "invalid_interaction: payload missing");
  let json: unknown;
  try {
    json = JSON.parse(field);
  } catch {
    return refuse(400, "invalid_interaction: payload is not JSON");
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || type === "") {
    return refuse(400, "invalid_interaction: type must be a non-empty string");
  }
  if (type !== "block_actions") return { ok: true, value: { type: "ignored" } };
  const parsed = blockActionsSchema.safeParse(json);
  if (!parsed.success) return refuse(400, `invalid_interaction: ${describeIssue(parsed.error)}`);
  return { ok: true, value: parsed.data };
}
