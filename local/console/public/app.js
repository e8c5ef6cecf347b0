// @ts-check
// The local console's page (served by `npm start`, see local/console/routes.ts). Plain browser
// JavaScript, no build step. Model text reaches the DOM only as Markdown rendered by marked and
// sanitised by DOMPurify; everything else is set with textContent.

import { marked } from "/console/assets/marked.js";
import DOMPurify from "/console/assets/purify.js";

const params = new URLSearchParams(location.search);
const who = { user: params.get("user") || "me", channel: params.get("channel") || "console" };
// The token became an HttpOnly cookie when this page was served; keep it out of the history.
if (params.has("token")) {
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}`);
}

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const messages = byId("messages");
const input = /** @type {HTMLTextAreaElement} */ (byId("input"));
const send = /** @type {HTMLButtonElement} */ (byId("send"));
const whoQuery = `user=${encodeURIComponent(who.user)}&channel=${encodeURIComponent(who.channel)}`;
byId("who").textContent = `you are “${who.user}” in “${who.channel}”`;

/**
 * @param {string} path
 * @param {RequestInit} [init]
 */
async function api(path, init) {
  const res = await fetch(`/console/api/${path}`, {
    ...init,
    headers: { "content-type": "application/json" },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${res.status}: ${body.error ?? res.statusText}`);
  return body;
}

/** @param {string} markdown */
function renderMarkdown(markdown) {
  return DOMPurify.sanitize(/** @type {string} */ (marked.parse(markdown, { async: false })));
}

/**
 * @param {string} kind
 * @param {string} [text]
 */
function addMessage(kind, text = "") {
  const li = document.createElement("li");
  li.className = kind;
  li.textContent = text;
  messages.append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

/** Answers being written, by job id: the list item and the text so far. */
const answers = new Map();

/** @param {string} jobId */
function answerFor(jobId) {
  let answer = answers.get(jobId);
  if (!answer) {
    const li = addMessage("agent");
    const body = document.createElement("div");
    body.className = "answer";
    body.textContent = "Thinking…";
    li.append(body);
    answer = { li, body, text: "" };
    answers.set(jobId, answer);
  }
  return answer;
}

function connect() {
  const events = new EventSource(`/console/api/events?${whoQuery}`);
  events.addEventListener("ready", () => setReady(true));
  events.addEventListener("delta", (e) => {
    const event = JSON.parse(e.data);
    const answer = answerFor(event.jobId);
    answer.text += event.text;
    answer.body.innerHTML = renderMarkdown(answer.text);
    answer.li.scrollIntoView({ block: "end" });
  });
  events.addEventListener("status", (e) => {
    const event = JSON.parse(e.data);
    addMessage("status", event.line);
  });
  events.addEventListener("notice", (e) => addMessage("notice", JSON.parse(e.data).text));
  events.addEventListener("done", (e) => {
    const event = JSON.parse(e.data);
    const answer = answerFor(event.jobId);
    answer.body.innerHTML = renderMarkdown(event.text);
    answer.li.dataset.outcome = event.outcome;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = event.model
      ? event.fellBackFrom
        ? `${event.model} · fell back from ${event.fellBackFrom}`
        : event.model
      : event.outcome;
    answer.li.append(meta);
    answers.delete(event.jobId);
    refreshMemory();
  });
  events.onerror = () => setReady(false);
}

let configured = true;
/** @param {boolean} ready */
function setReady(ready) {
  input.disabled = send.disabled = !(ready && configured);
}

byId("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  addMessage("user", text);
  try {
    const { jobId } = await api("messages", {
      method: "POST",
      body: JSON.stringify({ ...who, text }),
    });
    answerFor(jobId);
  } catch (error) {
    addMessage("notice", `Not sent: ${/** @type {Error} */ (error).message}`);
  }
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    byId("composer").requestSubmit();
  }
});

byId("forget").addEventListener("click", async () => {
  try {
    const gone = await api("forget", { method: "POST", body: JSON.stringify(who) });
    addMessage("notice", `Forgotten: ${gone.messages} messages, ${gone.summaries} summaries.`);
  } catch (error) {
    addMessage("notice", `Forget failed: ${/** @type {Error} */ (error).message}`);
  }
  refreshMemory();
});

/**
 * @param {HTMLElement} list
 * @param {string[]} items
 * @param {string} empty
 */
function fillList(list, items, empty) {
  list.replaceChildren(
    ...(items.length ? items : [empty]).map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      if (!items.length) li.className = "muted";
      return li;
    }),
  );
}

async function refreshMemory() {
  let memory;
  try {
    memory = await api(`memory?${whoQuery}`);
  } catch (error) {
    byId("summary").textContent = `unavailable (${/** @type {Error} */ (error).message})`;
    return;
  }
  const prefs = Object.entries(memory.preferences);
  byId("preferences").replaceChildren(
    ...(prefs.length
      ? prefs.flatMap(([key, value]) => {
          const dt = document.createElement("dt");
          dt.textContent = key;
          const dd = document.createElement("dd");
          dd.textContent = value;
          return [dt, dd];
        })
      : [Object.assign(document.createElement("dd"), { textContent: "none", className: "muted" })]),
  );
  byId("summary").textContent = memory.runningSummary ?? "none yet";
  fillList(
    byId("recalled"),
    memory.recalled.map(
      (/** @type {{text: string, score: number, used: boolean}} */ r) =>
        `${r.text} (score ${r.score.toFixed(2)}${r.used ? "" : ", over the budget"})`,
    ),
    "nothing recalled",
  );
  byId("count").textContent = `(${memory.messages.length})`;
  fillList(
    byId("live"),
    memory.messages.map(
      (/** @type {{role: string, content: string}} */ m) => `${m.role}: ${m.content}`,
    ),
    "no messages",
  );
}

async function refreshHealth() {
  let health;
  try {
    health = await api("health");
  } catch (error) {
    const message = /** @type {Error} */ (error).message;
    const setup = byId("setup");
    setup.hidden = false;
    setup.textContent = message.startsWith("401")
      ? "This page needs the console token: open the URL that npm start printed (or run npm run chat)."
      : `The local stack is not answering (${message}).`;
    return false;
  }
  const items = [];
  for (const [name, p] of Object.entries(health.providers)) {
    const state = p.configured ? `breaker ${p.breaker}` : "not configured";
    items.push({
      text: `${name}: ${state}`,
      cls: !p.configured ? "off" : p.breaker === "closed" ? "" : "bad",
    });
  }
  for (const [name, q] of Object.entries(health.queues)) {
    items.push({
      text: q.ok ? `${name} queue ${q.depth} · DLQ ${q.dlqDepth ?? 0}` : `${name} queue down`,
      cls: q.ok && !q.dlqDepth ? "" : "bad",
    });
  }
  items.push({
    text: health.lastCheckAt
      ? `checked ${new Date(health.lastCheckAt).toLocaleTimeString()}`
      : "not checked yet",
    cls: health.checks.every((/** @type {{ok: boolean}} */ c) => c.ok) ? "" : "bad",
  });
  byId("health").replaceChildren(
    ...items.map(({ text, cls }) =>
      Object.assign(document.createElement("li"), { textContent: text, className: cls }),
    ),
  );
  configured = !health.setup;
  const setup = byId("setup");
  setup.hidden = configured;
  if (health.setup) {
    setup.replaceChildren(
      "No language model is configured, so the agent cannot answer yet. Set ",
      Object.assign(document.createElement("code"), { textContent: "ANTHROPIC_API_KEY" }),
      " (Claude), or ",
      Object.assign(document.createElement("code"), { textContent: "MODEL_MANAGER_BASE_URL" }),
      " for any OpenAI-compatible server, e.g. a local Ollama at ",
      Object.assign(document.createElement("code"), { textContent: "http://127.0.0.1:11434/v1" }),
      " — in .env or the shell — and restart npm start.",
    );
  }
  return true;
}

if (await refreshHealth()) {
  connect();
  refreshMemory();
  setInterval(refreshHealth, 10_000);
}
