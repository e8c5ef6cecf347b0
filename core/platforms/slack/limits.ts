/**
 * Characters per Slack message; longer answers are split. Slack truncates `text` past 40 000
 * characters and advises keeping it under 4 000
 * (https://api.slack.com/methods/chat.postMessage#truncating).
 */
export const SLACK_MAX_MESSAGE_CHARS = 4000;

/**
 * Most files one message event may list: Slack lets a person share at most 10 files in one
 * message; the margin keeps the bound clear of a future increase.
 */
export const SLACK_MAX_FILES = 100;

/** Longest file `name` or `title` put into the job's `[attached: …]` line. */
export const SLACK_MAX_FILE_NAME_CHARS = 255;
