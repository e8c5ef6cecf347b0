/**
 * Bounds and defaults of the agent's tools (docs/architecture.md, "The agent turn"): how many
 * rounds a loop may take, how large a tool result may be, which broker abilities are offered
 * and which wait for a person's approval. The loop's timings (its wall-clock budget, the
 * approval TTL, the ability-list cache) are in `./timings` with the other timings. Plain data.
 */

/**
 * Default and ceiling of `AGENT_MAX_ROUNDS`: model calls that may ask for tools in one turn.
 * When they are used up the model is asked once more for an answer without tools.
 */
export const AGENT_MAX_ROUNDS = { default: 8, max: 20 } as const;

/**
 * Default and bounds of `TOOL_RESULT_MAX_BYTES`, in bytes of UTF-8: a tool result longer than
 * this is cut (on a character boundary) and the model told so. 8 KiB is about 2 000 tokens, so
 * 8 rounds of results stay far inside every model's context.
 */
export const TOOL_RESULT_MAX_BYTES = { default: 8192, min: 256, max: 65_536 } as const;

/**
 * Longest JSON of a call's input kept in a `ToolCallRecord` (stored with the turn, shown to the
 * archiver), in bytes of UTF-8: enough to say which file went where.
 */
export const TOOL_RECORD_INPUT_MAX_BYTES = 300;

/**
 * Longest tool result kept in a `ToolCallRecord`, in bytes of UTF-8: the link, path or exit code
 * a follow-up asks about, kept compact because it is read back with every later turn of the
 * conversation (the model itself got up to `TOOL_RESULT_MAX_BYTES` during the turn).
 */
export const TOOL_RECORD_RESULT_MAX_BYTES = 1_024;

/**
 * The regex every tool name offered to a model must match: Anthropic's `tools[].name` and
 * OpenAI's `function.name` both take 1–64 characters of `[a-zA-Z0-9_-]`
 * (https://docs.anthropic.com/en/api/messages#body-tools,
 * https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools).
 */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Rules of `remember_preference`: a key is a short lower-case word (it ends up in a DynamoDB
 * sort key, `PREF#{key}`), a value short text. The `model` key must name a model the agent can
 * route (the turn reads it as the person's default model).
 */
export const PREFERENCE_RULES = {
  keyPattern: /^[a-z][a-z0-9_.-]{0,63}$/,
  valueMaxChars: 500,
} as const;

/**
 * The broker abilities offered by default (`KADI_TOOL_ALLOWLIST`): the file abilities of the
 * KĀDI template, by the names its abilities advertise.
 * - file server: `local_remote_create_temporary_url {filePath, expiresIn?, maxDownloads?,
 *   password?}` / `create_temporary_url` (a download link), `revoke_temporary_url {urlId}`,
 *   `local_remote_create_tunnel` / `create_tunnel {port?, service?, subdomain?, authToken?}`
 *   (serve a local server publicly: start) and `local_remote_destroy_tunnel` /
 *   `destroy_tunnel {tunnelId}` (stop);
 * - cloud storage (`serviceName`: `dropbox`, `googledrive`, `box`): `cloud_upload_file
 *   {serviceName, localPath, remotePath}`, `cloud_download_file`, `cloud_list_files`;
 * - container registry: `start_registry {port?, tunnelService?, preferredEngine?}`,
 *   `add_container {name, type?, image?, tarPath?}` (share an image), `get_registry_urls`,
 *   `stop_registry`;
 * - SSH/SCP (`{username, host, privateKey?}` plus paths): `send_file_to_remote_server`,
 *   `download_file_from_remote`, and `execute_remote_command {…, command}`.
 */
export const DEFAULT_TOOL_ALLOWLIST: readonly string[] = [
  "local_remote_create_temporary_url",
  "create_temporary_url",
  "revoke_temporary_url",
  "local_remote_create_tunnel",
  "create_tunnel",
  "local_remote_destroy_tunnel",
  "destroy_tunnel",
  "cloud_upload_file",
  "cloud_download_file",
  "cloud_list_files",
  "start_registry",
  "add_container",
  "get_registry_urls",
  "stop_registry",
  "send_file_to_remote_server",
  "download_file_from_remote",
  "execute_remote_command",
];

/**
 * Tools that wait for the person's Approve by default (`TOOL_APPROVAL_REQUIRED`):
 * - `*execute*`: running a command on a remote host over SSH;
 * - `*delete*`, `*remove*`: anything that destroys data;
 * - uploads to public targets, i.e. what makes a whole server reachable by anyone on the
 *   internet: `*create_tunnel` (a public tunnel to a local server) and `start_registry` (a
 *   container registry behind a public tunnel by default). A temporary download link to one
 *   file (it expires, may carry a password) and an upload to the person's own cloud storage
 *   (private unless they share it) run without asking.
 */
export const DEFAULT_APPROVAL_REQUIRED: readonly string[] = [
  "*execute*",
  "*delete*",
  "*remove*",
  "*create_tunnel",
  "start_registry",
];

/** The value of `KADI_TOOL_ALLOWLIST` / `TOOL_APPROVAL_REQUIRED` that stands for "none". */
export const NO_TOOLS = "none";
