/**
 * The slash commands the agent registers, as Discord application command objects
 * (https://discord.com/developers/docs/interactions/application-commands#application-command-object).
 * `npm run discord:register` sends this list with a bulk overwrite, so it is the whole truth:
 * a command removed here disappears from Discord on the next registration.
 */
import { MODEL_ALIASES } from "../../llm/models";

/** `/ask prompt:<text> [model:<name>]`: ask the agent; the answer edits the deferred reply. */
export const ASK_COMMAND = "ask";
/** `/forget`: clear the caller's conversation in this channel. */
export const FORGET_COMMAND = "forget";
/** `/model name:<name>`: store the caller's preferred model. */
export const MODEL_COMMAND = "model";

/** Application command types (`CHAT_INPUT` is a slash command). */
const CHAT_INPUT = 1;
/** Application command option types. */
const STRING = 3;

/** One option of a slash command, as registered. */
export interface CommandOption {
  type: typeof STRING;
  /** 1–32 characters, lower case (the naming regex in the docs above). */
  name: string;
  /** 1–100 characters. */
  description: string;
  required?: boolean;
  /** Characters; Discord allows 0–6000 for string options. */
  min_length?: number;
  max_length?: number;
}

/** One slash command, as registered (bulk overwrite body element). */
export interface CommandDefinition {
  type: typeof CHAT_INPUT;
  name: string;
  description: string;
  options?: CommandOption[];
}

/** Longest model name accepted in options; model ids are far shorter. */
const MODEL_NAME_MAX_CHARS = 64;

/**
 * "Model alias (sonnet, haiku, …) or a claude… / gpt… id", built from the alias table so the
 * description follows it. A free string rather than `choices`: choices would forbid the full
 * ids that `[model]` directives and `DEFAULT_MODEL` accept, and the ingress validates the name
 * with `resolveModel` anyway (an unknown name gets an ephemeral list of aliases).
 */
function modelDescription(lead: string): string {
  const text = `${lead} (${Object.keys(MODEL_ALIASES).join(", ")}) or a claude…/gpt… id`;
  return text.length <= 100 ? text : `${lead} or a claude…/gpt… model id`;
}

/** The three commands: ask, forget, model. */
export const COMMANDS: readonly CommandDefinition[] = [
  {
    type: CHAT_INPUT,
    name: ASK_COMMAND,
    description: "Ask the agent; it answers in this channel and remembers the conversation",
    options: [
      {
        type: STRING,
        name: "prompt",
        description: "What you want to ask",
        required: true,
        min_length: 1,
        max_length: 6000,
      },
      {
        type: STRING,
        name: "model",
        description: modelDescription("Model for this question only: an alias"),
        required: false,
        max_length: MODEL_NAME_MAX_CHARS,
      },
    ],
  },
  {
    type: CHAT_INPUT,
    name: FORGET_COMMAND,
    description: "Forget our conversation in this channel (messages and archived summaries)",
  },
  {
    type: CHAT_INPUT,
    name: MODEL_COMMAND,
    description: "Set the model that answers you from now on",
    options: [
      {
        type: STRING,
        name: "name",
        description: modelDescription("An alias"),
        required: true,
        min_length: 1,
        max_length: MODEL_NAME_MAX_CHARS,
      },
    ],
  },
];
