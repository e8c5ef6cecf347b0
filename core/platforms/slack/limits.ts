/**
 * Characters per Slack message; longer answers are split. Slack truncates `text` past 40 000
 * characters and advises keeping it under 4 000
 * (https://api.slack.com/methods/chat.postMessage#truncating).
 */
export const SLACK_MAX_MESSAGE_CHARS = 4000;
