// Drives Flint's playground page (GET /) in headless Chromium through playwright-core: types code, waits for the
// ghost text, screenshots it, accepts it with Tab, dismisses the next one with Escape, and types over a completion
// in flight. Records every WebSocket frame the page sends and receives, so PlaygroundTest can compare what the page
// shows with what the server said. Prints one JSON line.
// Usage: node playground-check.mjs --url URL --screenshot FILE [--key API_KEY] [--text TEXT] [--chromium PATH]
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    screenshot: { type: "string" },
    key: { type: "string" },
    text: { type: "string", default: "def fibonacci(n):\n    " },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!opt.url || !opt.screenshot) {
  console.error("usage: node playground-check.mjs --url URL --screenshot FILE [--key KEY] [--text TEXT]");
  process.exit(2);
}

const TIMEOUT = 60_000; // generous: CI machines may be shared and slow
const profile = mkdtempSync(join(tmpdir(), "flint-playground-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: opt.chromium,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1200, height: 720 },
});
const out = { sent: [], received: [], consoleErrors: [], httpStatuses: {} };
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("console", (m) => { if (m.type() === "error") out.consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => out.consoleErrors.push(String(e)));
  page.on("response", (r) => { out.httpStatuses[new URL(r.url()).pathname] = r.status(); });
  page.on("websocket", (ws) => {
    out.wsUrl = ws.url();
    ws.on("framesent", (f) => out.sent.push(JSON.parse(f.payload)));
    ws.on("framereceived", (f) => out.received.push(JSON.parse(f.payload)));
  });
  const editor = page.locator("#editor");
  const completeFor = (id) => out.sent.find((m) => m.type === "complete" && m.id === id);
  const doneFor = (id) => out.received.find((m) => m.type === "done" && m.id === id);
  // The request the page shows, once both its frames have been recorded (frame events may trail the DOM).
  const shown = async () => {
    const id = await page.locator("#editor-box").getAttribute("data-request");
    for (const end = Date.now() + TIMEOUT; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) {
      if (completeFor(id) && doneFor(id)) return { complete: completeFor(id), done: doneFor(id) };
    }
    throw new Error("no complete/done frames recorded for " + id);
  };
  const ghost = () => page.locator("#ghost").textContent();

  await page.goto(opt.url);
  if (opt.key) {
    await page.locator("#key-form").waitFor({ state: "visible" });
    out.askedForKey = true;
    await page.fill("#key-input", opt.key);
    await page.press("#key-input", "Enter");
  }
  await page.locator('#status[data-state="ready"]').waitFor();

  // 1. Type, wait for the whole suggestion, screenshot it, accept it with Tab.
  await editor.click();
  await page.keyboard.type(opt.text, { delay: 15 });
  await page.locator('#editor-box[data-state="ready"]').waitFor();
  const first = await shown();
  out.complete = first.complete;
  out.doneText = first.done.text;
  out.ghostShown = await ghost();
  // Read before Tab: accepting asks for the next completion, which then takes over the latency panel.
  out.latency = Object.fromEntries(await Promise.all(
    ["lat-client-first", "lat-client-total", "lat-server-first", "lat-server-total"]
      .map(async (id) => [id, await page.locator("#" + id).textContent()])));
  out.serverTimings = first.done.timings;
  out.screenshot = opt.screenshot;
  await page.screenshot({ path: opt.screenshot });
  out.beforeTab = await editor.inputValue();
  await page.keyboard.press("Tab");
  out.afterTab = await editor.inputValue();
  out.caretAfterTab = await editor.evaluate((e) => e.selectionStart);
  out.model = Object.fromEntries(await page.locator("#model-info dd").evaluateAll(
    (dds) => dds.map((d) => [d.dataset.field, d.textContent])));

  // The page keeps the server's copy of the document in step: after Tab it asks again for the new caret.
  await page.locator('#editor-box[data-state="ready"]').waitFor();
  out.afterAcceptComplete = (await shown()).complete;

  // 2. Escape dismisses the suggestion and leaves the text alone.
  await page.keyboard.press("Escape");
  out.ghostAfterEscape = await ghost();
  out.afterEscape = await editor.inputValue();
  out.stateAfterEscape = await page.locator("#editor-box").getAttribute("data-state");

  // Escape right after a keystroke also drops the request the debounce was about to send (a long debounce, so a
  // busy machine cannot let it fire between the two keys).
  await page.fill("#debounce", "1500");
  await editor.click();
  const completesBefore = out.sent.filter((m) => m.type === "complete").length;
  await page.keyboard.type("z");
  await page.keyboard.press("Escape");
  await page.waitForTimeout(2500);
  out.escapeBeforeDebounce = {
    completesSent: out.sent.filter((m) => m.type === "complete").length - completesBefore,
    ghost: await ghost(),
  };

  // 3. Typing over a completion in flight cancels it: ask for many tokens, type as soon as the first delta shows.
  await page.fill("#max-tokens", "400");
  await page.fill("#debounce", "150");
  await editor.click();
  await page.keyboard.press("End");
  const before = await page.locator("#editor-box").getAttribute("data-request");
  await page.keyboard.type("x");
  // Streaming, or already done where the model is fast enough to finish between two polls.
  await page.waitForFunction((prev) => {
    const b = document.querySelector("#editor-box");
    return b.dataset.request !== prev && (b.dataset.state === "streaming" || b.dataset.state === "ready");
  }, before);
  const streaming = { id: await page.locator("#editor-box").getAttribute("data-request") };
  out.inFlight = { id: streaming.id, doneBeforeTyping: doneFor(streaming.id) !== undefined };
  // Shorter for the next request (set without focusing the field: leaving the editor would dismiss too).
  await page.evaluate(() => { document.querySelector("#max-tokens").value = "48"; });
  await page.keyboard.type("y");
  await page.waitForFunction(() => document.querySelector("#editor-box").dataset.state === "ready", null,
    { timeout: TIMEOUT });
  const last = await shown();
  out.inFlight.cancelSent = out.sent.some((m) => m.type === "cancel" && m.id === streaming.id);
  out.inFlight.done = doneFor(streaming.id) ?? null;
  out.final = { complete: last.complete, doneText: last.done.text, ghostShown: await ghost(),
    editor: await editor.inputValue() };
} catch (e) {
  out.failure = String(e.stack || e);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
