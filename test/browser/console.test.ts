import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack";
import { type FakeAnthropic, startFakeAnthropic } from "../fakes/anthropic";
import { testAws, testConfig } from "../support/aws";

/**
 * The console page in a real browser (Debian's Chromium driven by playwright-core; no browser
 * download) against the real local stack with the Anthropic fake: send a message, watch the
 * answer stream in as rendered Markdown with its model, see it in the memory panel, forget it,
 * with no console errors on the page. One screenshot per run: test-artifacts/console.png.
 */

/** Debian's `chromium` package; `.ci/run` installs it with apt. */
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts");

const ANSWER =
  "Tides come **twice a day** because the Moon pulls the oceans, and the Earth turns " +
  "under both bulges; `high water` follows the Moon by about fifty minutes each day. " +
  '<a href="javascript:window.__xss=1">link</a> <b onclick="window.__xss=1">bold</b>';

/** The part of the page's `document` the in-page predicates use. */
interface MiniDocument {
  querySelector(selector: string): { textContent: string | null } | null;
}

let anthropic: FakeAnthropic;
let stack: LocalStack;
let browser: Browser | undefined;

beforeAll(async () => {
  // Paced, so the page is seen mid-answer: about 40 words at 25 per second.
  anthropic = await startFakeAnthropic({
    apiKey: "sk-ant-browser",
    reply: () => ANSWER,
    stream: { firstTokenMs: 200, tokensPerSecond: 25 },
  });
  const setup = await testAws(
    testConfig({
      ANTHROPIC_API_KEY: "sk-ant-browser",
      ANTHROPIC_BASE_URL: anthropic.url,
      REPLY_MODEL_FOOTER: "true",
      PORT: "0",
    }),
    { queue: `browser-console-${Date.now()}` },
  );
  stack = await startLocalStack(setup.config);
  // Without Chromium every test fails with what to install (a failing beforeAll would
  // only mark them skipped in the report .ci/run prints).
  if (!existsSync(CHROMIUM)) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await anthropic?.close();
});

/** A new page that records console errors and uncaught exceptions. */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  if (!browser) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium), as .ci/run does`,
    );
  }
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  return { page, errors };
}

describe("console page in Chromium", () => {
  it("streams a rendered answer, shows it in the memory panel, and forgets it", async () => {
    const { page, errors } = await openPage(`${stack.console.url}&user=dana&channel=tides`);
    try {
      // The token became a cookie and left the address bar.
      await page.waitForURL((url) => !url.searchParams.has("token"));
      const input = page.locator("#input");
      await expect.poll(() => input.isEnabled(), { timeout: 10_000 }).toBe(true);
      await expect.poll(() => page.locator("#health li").count()).toBeGreaterThan(2);

      await input.fill("Why are there two tides a day?");
      await input.press("Enter");
      await expect
        .poll(() => page.locator("#messages li.user").textContent())
        .toBe("Why are there two tides a day?");

      // Mid-stream: some of the answer is shown, the model line is not there yet.
      const answer = page.locator("#messages li.agent").last();
      await page.waitForFunction(
        () => {
          // Runs in the page; this project's TypeScript has no DOM types.
          const doc = (globalThis as unknown as { document: MiniDocument }).document;
          const text = doc.querySelector("#messages li.agent .answer")?.textContent ?? "";
          return (
            text.startsWith("Tides come") &&
            !text.includes("fifty minutes") &&
            !doc.querySelector("#messages li.agent .meta")
          );
        },
        undefined,
        { timeout: 10_000, polling: 20 },
      );

      // Done: rendered Markdown, sanitised, with the model under it.
      await expect
        .poll(() => answer.locator(".meta").textContent(), { timeout: 15_000 })
        .toMatch(/^claude/);
      expect(await answer.locator(".answer strong").textContent()).toBe("twice a day");
      expect(await answer.locator(".answer code").textContent()).toBe("high water");
      expect(await answer.locator("[onclick]").count()).toBe(0);
      expect(await answer.locator('a[href^="javascript:"]').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();

      // The memory panel shows the stored turn.
      const live = page.locator("#live li");
      await expect.poll(() => live.count()).toBe(2);
      expect(await live.nth(0).textContent()).toBe("user: Why are there two tides a day?");
      expect(await live.nth(1).textContent()).toContain("assistant: Tides come **twice a day**");
      expect(await page.locator("#count").textContent()).toBe("(2)");

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, "console.png"), fullPage: true });

      await page.locator("#forget").click();
      await expect
        .poll(() => page.locator("#messages li.notice").last().textContent())
        .toBe("Forgotten: 2 messages, 0 summaries.");
      await expect.poll(() => live.allTextContents()).toEqual(["no messages"]);

      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it("without the token, says to open the printed URL instead of a dead chat box", async () => {
    const { page, errors } = await openPage(`${stack.url}/`);
    try {
      await expect
        .poll(() => page.locator("#setup").textContent())
        .toContain("open the URL that npm start printed");
      expect(await page.locator("#input").isDisabled()).toBe(true);
      // The one failed request is the refused health call itself.
      expect(errors.every((e) => e.includes("401"))).toBe(true);
    } finally {
      await page.close();
    }
  });
});

describe("console page with no model configured", () => {
  it("says exactly what to set and keeps the chat box off", async () => {
    const setup = await testAws(testConfig({ PORT: "0" }), {
      queue: `browser-console-nomodel-${Date.now()}`,
    });
    const bare = await startLocalStack(setup.config);
    // Stopped even when no page opens (no Chromium).
    const { page, errors } = await openPage(bare.console.url).catch(async (error: unknown) => {
      await bare.stop();
      throw error;
    });
    try {
      await expect.poll(() => page.locator("#setup").isVisible()).toBe(true);
      const text = (await page.locator("#setup").textContent()) ?? "";
      expect(text).toContain("ANTHROPIC_API_KEY");
      expect(text).toContain("MODEL_MANAGER_BASE_URL");
      expect(text).toContain("http://127.0.0.1:11434/v1");
      expect(await page.locator("#input").isDisabled()).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await bare.stop();
    }
  });
});
