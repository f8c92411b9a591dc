// Flint playground: a textarea whose keystrokes travel as `change` deltas over Flint's WebSocket protocol
// (docs/protocol.md), with the completion at the caret painted as grey ghost text by a mirror div underneath.
// Tab accepts, Escape dismisses, typing cancels the completion in flight and asks again after a debounce.
"use strict";

const DOC = "playground://editor";
const KEY_STORAGE = "flint.apiKey";
const HISTORY_MAX = 20;

const $ = (id) => document.getElementById(id);
const editor = $("editor");
const mirror = $("mirror");
const box = $("editor-box");

const state = {
  key: sessionStorage.getItem(KEY_STORAGE),
  ws: null,
  hello: null,
  props: null,
  docOpen: false,
  sentText: "",       // the document as the server has it after our last `change`
  nextId: 1,
  current: null,      // {id, cursor, ghost, sentAt, firstAt, done}: the one completion the editor may show
  cancelled: new Set(), // ids we cancelled: their `done` and the 404 of a cancel that lost the race are expected
  timer: null,
  retryMs: 500,
};

// ---- connection -------------------------------------------------------------------------------------------------

function authHeaders() {
  return state.key ? { Authorization: "Bearer " + state.key } : {};
}

function setStatus(text, kind) {
  const s = $("status");
  s.textContent = text;
  s.dataset.state = kind;
}

async function start() {
  let res;
  try {
    res = await fetch("/props", { headers: authHeaders() });
  } catch (e) {
    setStatus("server unreachable: " + e.message, "error");
    setTimeout(start, 2000);
    return;
  }
  if (res.status === 401) {
    askForKey(state.key ? "that key was refused" : "");
    return;
  }
  if (!res.ok) {
    setStatus("GET /props failed: HTTP " + res.status, "error");
    return;
  }
  state.props = await res.json();
  $("key-form").hidden = true;
  renderModel();
  connect();
}

function askForKey(error) {
  setStatus("API key needed", "auth");
  $("key-form").hidden = false;
  $("key-error").textContent = error;
  $("key-input").focus();
}

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  state.key = $("key-input").value.trim() || null;
  if (state.key) {
    sessionStorage.setItem(KEY_STORAGE, state.key);
  } else {
    sessionStorage.removeItem(KEY_STORAGE);
  }
  start();
});

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const query = state.key ? "?api_key=" + encodeURIComponent(state.key) : "";
  const ws = new WebSocket(proto + "//" + location.host + "/v1/ws" + query);
  state.ws = ws;
  setStatus("connecting…", "connecting");
  ws.onmessage = (e) => onMessage(JSON.parse(e.data));
  ws.onclose = () => {
    if (state.ws !== ws) {
      return;
    }
    state.ws = null;
    state.docOpen = false;
    dropCompletion(false);
    render();
    setStatus("disconnected; reconnecting…", "error");
    setTimeout(start, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 5000);
  };
}

function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(msg));
    return true;
  }
  return false;
}

function onMessage(msg) {
  switch (msg.type) {
    case "hello":
      state.hello = msg;
      state.retryMs = 500;
      // Documents belong to the socket: (re)open ours with the whole text, then only deltas.
      state.sentText = editor.value;
      send({ type: "open", doc: DOC, text: state.sentText });
      state.docOpen = true;
      setStatus("ready", "ready");
      renderModel();
      schedule();
      break;
    case "delta":
      onDelta(msg);
      break;
    case "done":
      onDone(msg);
      break;
    case "error":
      onError(msg);
      break;
    default:
      break; // ack, pong
  }
}

// ---- editing ----------------------------------------------------------------------------------------------------

/** The smallest single edit turning `a` into `b`, never splitting a surrogate pair. */
function diff(a, b) {
  let p = 0;
  const max = Math.min(a.length, b.length);
  while (p < max && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  if (p > 0 && isHigh(a.charCodeAt(p - 1))) p--;
  let s = 0;
  while (s < max - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  if (s > 0 && isLow(a.charCodeAt(a.length - s))) s--;
  return { start: p, end: a.length - s, text: b.slice(p, b.length - s) };
}

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;

function syncDocument() {
  const text = editor.value;
  if (!state.docOpen || text === state.sentText) {
    return;
  }
  if (send({ type: "change", doc: DOC, changes: [diff(state.sentText, text)] })) {
    state.sentText = text;
  }
}

editor.addEventListener("input", (e) => {
  dropCompletion(true);
  syncDocument();
  render();
  if (!e.isComposing) {
    schedule(); // mid-IME-composition text is not what the user means yet
  }
});

editor.addEventListener("keydown", (e) => {
  if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey) {
    e.preventDefault();
    const ghost = visibleGhost();
    insert(ghost || "    "); // without a suggestion Tab indents, as in any code editor
  } else if (e.key === "Escape") {
    clearTimeout(state.timer); // also the request the debounce was about to send
    if (state.current) {
      e.preventDefault();
      dropCompletion(true);
      render();
    }
  }
});

/** Inserts at the caret through the browser's editing path, so undo works and `input` fires as for typing. */
function insert(text) {
  dropCompletion(true);
  if (!document.execCommand("insertText", false, text)) {
    editor.setRangeText(text, editor.selectionStart, editor.selectionEnd, "end");
    editor.dispatchEvent(new Event("input"));
  }
}

// A suggestion belongs to one caret position: moving away (click, arrows, selecting) dismisses it.
function onCaretMoved() {
  const c = state.current;
  if (c && (editor.selectionStart !== c.cursor || editor.selectionEnd !== c.cursor || editor.value !== c.text)) {
    dropCompletion(true);
    render();
  }
}
document.addEventListener("selectionchange", onCaretMoved);
editor.addEventListener("click", onCaretMoved);
editor.addEventListener("blur", () => {
  dropCompletion(true);
  render();
});
editor.addEventListener("scroll", () => {
  mirror.scrollTop = editor.scrollTop;
  mirror.scrollLeft = editor.scrollLeft;
});

// ---- completions ------------------------------------------------------------------------------------------------

function schedule() {
  clearTimeout(state.timer);
  const ms = Math.max(0, Number($("debounce").value) || 0);
  state.timer = setTimeout(request, ms);
}

function request() {
  const text = editor.value;
  const cursor = editor.selectionStart;
  if (!state.docOpen || document.activeElement !== editor || cursor !== editor.selectionEnd || !text.trim()) {
    return;
  }
  dropCompletion(true);
  syncDocument();
  const id = "c" + state.nextId++;
  const maxTokens = Math.max(1, Math.min(4096, Number($("max-tokens").value) || 48));
  // FIM over the synced document when the model has FIM tokens; otherwise continue the text before the caret.
  const msg = state.hello.fim
    ? { type: "complete", id, doc: DOC, cursor, max_tokens: maxTokens }
    : { type: "complete", id, prompt: text.slice(0, cursor), max_tokens: maxTokens };
  state.current = { id, cursor, text, ghost: "", sentAt: performance.now(), firstAt: null, done: null };
  box.dataset.state = "pending";
  box.dataset.request = id; // which request the shown state belongs to (the browser test reads it)
  send(msg);
}

/** Forgets the current completion; cancels it on the server when it is still running and `cancel` is set. */
function dropCompletion(cancel) {
  const c = state.current;
  state.current = null;
  box.dataset.state = "idle";
  if (c && !c.done && cancel) {
    state.cancelled.add(c.id);
    if (state.cancelled.size > 256) {
      state.cancelled.delete(state.cancelled.values().next().value); // oldest first: a Set keeps insertion order
    }
    send({ type: "cancel", id: c.id });
  }
}

function onDelta(msg) {
  const c = state.current;
  if (!c || msg.id !== c.id) {
    return;
  }
  if (c.firstAt === null) {
    c.firstAt = performance.now();
  }
  c.ghost += msg.text;
  box.dataset.state = "streaming";
  render();
}

function onDone(msg) {
  if (state.cancelled.has(msg.id)) {
    addHistory(msg.id, null, msg);
    return;
  }
  const c = state.current;
  if (!c || msg.id !== c.id) {
    return;
  }
  c.done = msg;
  c.doneAt = performance.now();
  c.ghost = msg.text; // the whole completion, authoritative
  box.dataset.state = c.ghost ? "ready" : "idle";
  if (msg.error) {
    setStatus("completion failed: " + msg.error, "error");
  }
  showLatency(c);
  render();
}

function onError(msg) {
  if (msg.id && state.cancelled.delete(msg.id)) {
    return; // a cancel that raced the request's end: nothing was running any more
  }
  if (state.current && msg.id === state.current.id) {
    state.current = null;
    box.dataset.state = "idle";
    render();
  }
  setStatus("error " + msg.status + ": " + msg.message, "error");
}

function visibleGhost() {
  const c = state.current;
  return c && editor.selectionStart === c.cursor && editor.selectionEnd === c.cursor && editor.value === c.text
    ? c.ghost : "";
}

// ---- rendering --------------------------------------------------------------------------------------------------

/** Paints the text into the mirror with the suggestion inserted at the caret (the textarea's own text is clear). */
function render() {
  const text = editor.value;
  const ghost = visibleGhost();
  const at = ghost ? state.current.cursor : text.length;
  const span = document.createElement("span");
  span.className = "ghost";
  span.id = "ghost";
  span.textContent = ghost;
  // The trailing newline gives an empty last line its height, as the textarea does.
  mirror.replaceChildren(document.createTextNode(text.slice(0, at)), span,
    document.createTextNode(text.slice(at) + "\n"));
  mirror.scrollTop = editor.scrollTop;
  mirror.scrollLeft = editor.scrollLeft;
}

const ms = (v) => (v === null || v === undefined ? "–" : (v < 10 ? v.toFixed(1) : Math.round(v)) + " ms");

function showLatency(c) {
  const t = c.done.timings || {};
  const u = c.done.usage || {};
  const clientFirst = c.firstAt === null ? null : c.firstAt - c.sentAt;
  const clientTotal = c.doneAt - c.sentAt;
  $("lat-client-first").textContent = ms(clientFirst);
  $("lat-client-total").textContent = ms(clientTotal);
  $("lat-server-first").textContent = ms(t.first_token_ms);
  $("lat-server-total").textContent = ms(t.total_ms);
  const perSec = t.predicted_ms > 0 ? (u.completion_tokens * 1000 / t.predicted_ms).toFixed(0) + " tok/s, " : "";
  $("lat-detail").textContent = `${c.id}: ${u.completion_tokens} tokens (${perSec}${c.done.finish_reason}); prompt `
    + `${u.prompt_tokens} tokens, ${u.cached_tokens} cached, ${ms(t.prompt_ms)}; queue ${ms(t.queue_ms)}`;
  addHistory(c.id, clientTotal, c.done);
}

function addHistory(id, clientTotal, done) {
  const li = document.createElement("li");
  const total = clientTotal === null ? "" : ms(clientTotal) + " ";
  li.textContent = `${id} ${total}(server ${ms(done.timings && done.timings.total_ms)}) `
    + `${done.usage ? done.usage.completion_tokens : 0} tok ${done.finish_reason}`;
  const list = $("history");
  list.prepend(li);
  while (list.children.length > HISTORY_MAX) list.lastChild.remove();
}

function renderModel() {
  const h = state.hello || {};
  const p = state.props || {};
  const rows = [
    ["model", h.model || (p.default_generation_settings || {}).model],
    ["file", p.model_path],
    ["context", h.n_ctx !== undefined ? h.n_ctx + " tokens per slot" : undefined],
    ["slots", h.slots !== undefined ? h.slots : p.total_slots],
    ["FIM", h.fim === undefined ? undefined : h.fim ? "yes (" + (p.fim_family || "?") + ")" : "no"],
    ["protocol", h.protocol],
    ["build", p.build_info],
  ];
  const dl = $("model-info");
  dl.replaceChildren();
  for (const [k, v] of rows) {
    if (v === undefined || v === null) continue;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = String(v);
    dd.dataset.field = k;
    dl.append(dt, dd);
  }
  if (state.hello) {
    $("mode").textContent = state.hello.fim
      ? "fill-in-the-middle at the caret"
      : "no FIM tokens: plain continuation of the text before the caret";
  }
}

render();
start();
