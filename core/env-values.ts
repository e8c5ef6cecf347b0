import * as z from "zod";
import { NO_TOOLS } from "./constants/agent";
import { MODEL_ALIASES, resolveModel } from "./constants/models";

/**
 * Schemas of environment-variable values, the building blocks of `CONFIG_VARIABLES` in
 * `core/config.ts`. Every one takes the raw `string | undefined` of a variable; error messages
 * describe the expected form and never echo the value, so secrets do not leak into logs.
 */

/** An unset or blank variable reads as `undefined`; surrounding whitespace is ignored. */
export const optionalString = z
  .string()
  .optional()
  .transform((v) => {
    const trimmed = v?.trim();
    return trimmed ? trimmed : undefined;
  });

/** An optional `http(s)://` URL. */
export const optionalUrl = optionalString.pipe(
  z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
);

/** An optional `ws(s)://` URL. */
export const optionalWsUrl = optionalString.pipe(
  z.url({ protocol: /^wss?$/, error: "must be a ws(s) URL" }).optional(),
);

/** An optional value matching `pattern`; `error` says what it must be. */
export function optionalMatching(pattern: RegExp, error: string) {
  return optionalString.pipe(z.string().regex(pattern, error).optional());
}

/** `schema` applied to the value, or to `fallback` when the variable is unset or blank. */
export function withDefault<T extends z.ZodType<unknown, string>>(fallback: string, schema: T) {
  return optionalString.transform((v) => v ?? fallback).pipe(schema);
}

/** A whole number in `[min, max]`, `fallback` when unset. */
export function positiveInt(fallback: number, max: number, min = 1) {
  return withDefault(
    String(fallback),
    z
      .string()
      .regex(/^\d+$/, "must be a whole number")
      .transform(Number)
      .pipe(
        z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
      ),
  );
}

/** `true` or `false` (any case), `fallback` when unset. */
export function booleanWithDefault(fallback: boolean) {
  return withDefault(
    String(fallback),
    z
      .string()
      .transform((v) => v.toLowerCase())
      .pipe(z.enum(["true", "false"], { error: "must be true or false" }))
      .transform((v) => v === "true"),
  );
}

/**
 * Up to `maxItems` texts separated by `|` (texts may hold commas), each at most `maxChars`
 * characters; blank entries are dropped; `fallback` when unset.
 */
export function pipeSeparated(fallback: readonly string[], maxItems: number, maxChars: number) {
  return optionalString
    .transform((v) =>
      v === undefined
        ? [...fallback]
        : v
            .split("|")
            .map((item) => item.trim())
            .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().max(maxChars, `each entry must be at most ${maxChars} characters`))
        .max(maxItems, `must list at most ${maxItems} entries`),
    );
}

/** An `http(s)://` URL, `fallback` when unset. */
export function urlWithDefault(fallback: string) {
  return withDefault(fallback, z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }));
}

/** `url` without its trailing slashes, so paths can be appended with `/…`. */
export function withoutTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, "");
}

/** An optional PKCS#8 PEM private key. A PEM value may arrive with literal `\n` escapes
 * (one-line env files, secret stores); they become real newlines. */
export const optionalPem = optionalString
  .transform((v) => v?.replaceAll("\\n", "\n"))
  .pipe(
    z
      .string()
      .regex(/^-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----$/, {
        error: "must be a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)",
      })
      .optional(),
  );

/** A comma-separated list of ids matching `item` (blank entries dropped), `fallback` when unset. */
export function commaSeparated(fallback: string, item: RegExp, error: string) {
  return withDefault(
    fallback,
    z
      .string()
      .transform((v) =>
        v
          .split(",")
          .map((n) => n.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(item, error))),
  );
}

/** An optional whole number in `[min, max]`; `undefined` when unset or blank. */
export function optionalInt(max: number, min = 1) {
  return optionalMatching(/^\d+$/, "must be a whole number")
    .transform((v) => (v === undefined ? undefined : Number(v)))
    .pipe(
      z
        .number()
        .int()
        .min(min, `must be at least ${min}`)
        .max(max, `must be at most ${max}`)
        .optional(),
    );
}

/**
 * An optional comma-separated list of ids matching `item` (blank entries dropped): `undefined`
 * when the variable is unset or blank, else at least one id.
 */
export function optionalIdList(item: RegExp, error: string) {
  return optionalString.pipe(
    z
      .string()
      .transform((v) =>
        v
          .split(",")
          .map((n) => n.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(item, error)).min(1, error))
      .optional(),
  );
}

/** An optional model alias or id that `resolveModel` can route (`DEFAULT_MODEL`, …). */
export const modelSchema = optionalString.refine(
  (v) => v === undefined || resolveModel(v) !== undefined,
  {
    error: `must be an alias (${Object.keys(MODEL_ALIASES).join(", ")}) or a claude*, gpt* or o<digit>* model id`,
  },
);

/** An optional Discord snowflake id (https://discord.com/developers/docs/reference#snowflakes). */
export const snowflake = optionalMatching(/^\d{15,22}$/, "must be a Discord snowflake id");

/** `ALLOWED_SLACK_TEAMS`: Slack team ids (`T…`, or `E…` for an Enterprise Grid). */
export const slackTeamList = optionalIdList(
  /^[TE][A-Z0-9]+$/,
  "must be comma-separated Slack team ids (T…, or E… for an Enterprise Grid)",
);

/** `ALLOWED_CHANNELS`: Slack (`C…`, `G…`, `D…`) or Discord channel ids. */
export const channelList = optionalIdList(
  /^([CGD][A-Z0-9]+|\d{15,22})$/,
  "must be comma-separated Slack (C…, G…, D…) or Discord channel ids",
);

/** `ALLOWED_USERS`: Slack (`U…`, `W…`) or Discord user ids. */
export const userList = optionalIdList(
  /^([UW][A-Z0-9]+|\d{15,22})$/,
  "must be comma-separated Slack (U…, W…) or Discord user ids",
);

/** A TCP port, 0–65535 (0 picks a free port); default 3000. */
export const portNumber = withDefault(
  "3000",
  z
    .string()
    .regex(/^\d{1,5}$/, "must be a port number")
    .transform(Number)
    .pipe(z.number().max(65535, "must be a port number")),
);

/**
 * `KADI_TOOL_ALLOWLIST` / `TOOL_APPROVAL_REQUIRED`: comma-separated tool names or `*`-globs
 * (`cloud_*`, `*delete*`), `none` for an empty list, `fallback` when unset.
 */
export function toolPatternList(fallback: readonly string[]) {
  const error = `must be comma-separated tool names or *-globs (A-Z a-z 0-9 _ - *), or ${NO_TOOLS}`;
  return withDefault(
    fallback.length === 0 ? NO_TOOLS : fallback.join(","),
    z
      .string()
      .transform((v) =>
        v.toLowerCase() === NO_TOOLS
          ? []
          : v
              .split(",")
              .map((n) => n.trim())
              .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[A-Za-z0-9_*-]{1,64}$/, error))),
  );
}
