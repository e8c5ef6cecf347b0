import { describe, expect, it } from "vitest";
import * as z from "zod";
import { ISSUE_PATH_MAX_CHARS } from "../../core/constants/limits";
import { loggable, loggableKeys, loggableOrShape } from "../../core/ingress/log-fields";
import { describeIssue } from "../../core/ingress/zod-issue";

type Node = { next?: Node; leaf?: string };
const node: z.ZodType<Node> = z.lazy(() =>
  z.object({ next: node.optional(), leaf: z.string().optional() }),
);

/** `{next: {next: … {leaf: 5}}}`, `depth` levels of `next`. */
function chain(depth: number): unknown {
  let value: unknown = { leaf: 5 };
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
}

describe("describeIssue", () => {
  it("names a shallow field in full", () => {
    const error = node.safeParse(chain(2)).error as z.ZodError;
    expect(describeIssue(error)).toBe(
      "next.next.leaf Invalid input: expected string, received number",
    );
  });

  it("bounds the path of an issue 1000 levels deep, keeping its first and last segments", () => {
    const error = node.safeParse(chain(1000)).error as z.ZodError;
    const text = describeIssue(error, "body", ["data"]);
    const path = text.split(" ")[0] as string;
    expect(path.length).toBeLessThanOrEqual(ISSUE_PATH_MAX_CHARS);
    expect(path).toMatch(/^data\.next\.next\..*\.….*\.next\.leaf$/);
    expect(text).toMatch(/ Invalid input: expected string, received number$/);
  });

  it("cuts a payload key used as a path segment to 64 characters", () => {
    const schema = z.record(z.string(), z.number());
    const key = "k".repeat(10_000);
    const error = schema.safeParse({ [key]: "x" }).error as z.ZodError;
    const text = describeIssue(error);
    expect(text.length).toBeLessThan(200);
    expect(text).toContain(`${"k".repeat(64)}…`);
  });

  it("names the root when the issue is at the top", () => {
    const error = z.string().safeParse(1).error as z.ZodError;
    expect(describeIssue(error, "job")).toBe("job Invalid input: expected string, received number");
  });
});

describe("log fields", () => {
  it("lets short printable ids through and describes everything else by shape", () => {
    expect(loggable("Ev0PV52K25")).toBe("Ev0PV52K25");
    expect(loggable("x".repeat(65))).toBeUndefined();
    expect(loggable("a\nb")).toBeUndefined();
    expect(loggable("\ud800")).toBeUndefined();
    expect(loggableOrShape("x".repeat(65))).toBe("string of 65 chars");
    expect(loggableOrShape({ deep: [] })).toBe("object");
    expect(loggableOrShape([1])).toBe("array");
    expect(loggableOrShape(null)).toBe("null");
    expect(loggableKeys({ eventId: "Ev1", retryNum: "9".repeat(100), count: 3 })).toEqual({
      eventId: "Ev1",
      retryNum: "string of 100 chars",
      count: 3,
    });
  });
});
