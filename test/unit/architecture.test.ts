import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The module rules of docs/architecture.md ("Module map"), checked on the source itself:
 * folders under `core/` import each other in one direction only (type-only imports count too,
 * and a parent and its subfolder are two folders), `core/` never imports `infra/`, and no file
 * under `core/` grows past 400 lines.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MAX_LINES = 400;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Relative import specifiers of one file (static, type-only and dynamic). */
function importsOf(source: string): string[] {
  const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]*)"/g)];
  return specifiers.map((match) => match[1] as string);
}

/** The folder an import resolves into (the folder itself for an `index.ts` import). */
function targetFolder(file: string, specifier: string): string {
  const target = normalize(join(dirname(file), specifier));
  try {
    if (statSync(join(ROOT, target)).isDirectory()) return target;
  } catch {
    // Not a folder: a module file, whose folder is its dirname.
  }
  return dirname(target);
}

const coreFiles = sourceFiles("core");

/** Folder → folders it imports, over every file under `core/`. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of coreFiles) {
    const from = dirname(file);
    for (const specifier of importsOf(readFileSync(join(ROOT, file), "utf8"))) {
      const to = targetFolder(file, specifier);
      if (to === from) continue;
      const edges = graph.get(from) ?? new Set<string>();
      edges.add(to);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan): each is a cycle. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("module rules", () => {
  it("has no import cycle between folders under core/", () => {
    const graph = folderGraph();
    expect(graph.size).toBeGreaterThan(10);
    expect(cycles(graph)).toEqual([]);
  });

  it("finds a cycle when there is one (the check itself works)", () => {
    const graph = new Map([
      ["core/a", new Set(["core/b"])],
      ["core/b", new Set(["core/c"])],
      ["core/c", new Set(["core/a"])],
      ["core/d", new Set(["core/a"])],
    ]);
    expect(cycles(graph)).toEqual([["core/a", "core/b", "core/c"]]);
  });

  it("never imports infra/ from core/", () => {
    const offenders = coreFiles.filter((file) =>
      importsOf(readFileSync(join(ROOT, file), "utf8")).some((specifier) =>
        relative(ROOT, join(ROOT, targetFolder(file, specifier))).startsWith("infra"),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it(`keeps every file under core/ within ${MAX_LINES} lines`, () => {
    const long = coreFiles
      .map((file) => ({ file, lines: readFileSync(join(ROOT, file), "utf8").split("\n").length }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it("cites only documents a fork of the repository has", () => {
    const files = ["core", "functions", "local", "infra", "scripts", "bench", "test", "docs"]
      .flatMap((dir) => sourceFilesWith(dir, [".ts", ".md"]))
      .concat(["README.md", "sst.config.ts"]);
    const offenders = files.filter((file) =>
      /\bdesign\.md\b|\.\.\/shared\//.test(readFileSync(join(ROOT, file), "utf8")),
    );
    expect(offenders.filter((file) => file !== "test/unit/architecture.test.ts")).toEqual([]);
  });
});

function sourceFilesWith(dir: string, extensions: string[]): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFilesWith(path, extensions);
    return extensions.some((ext) => entry.name.endsWith(ext)) ? [path] : [];
  });
}
