// The customer chat widget: pre-chat form, conversation, queue status, resumable by token.
// Everything the customer or the agent typed is rendered with textContent, never as markup.
import { ReconnectingSocket, socketUrl, randomId } from "/static/common/reconnect.js";

const KEY = "cc.chat.v1";
const MAX_KEPT = 500; // messages kept in localStorage for a reload; older ones stay in the server's history
// Errors after which the token cannot be used again; anything else (a restart, overload) is worth retrying.
const TRANSIENT = new Set(["unavailable", "internal", "internal_error", "rate_limited", "too_large"]);
// Errors about what the pre-chat form sent (the server is the judge of a valid email address).
const PRECHAT_ERRORS = new Set(["bad_email", "bad_field", "missing_field"]);

const $ = (id) => document.getElementById(id);
const root = $("chat");
// In the embed.js frame the page fills the frame instead of floating as a card.
if (new URLSearchParams(location.search).has("embed")) document.documentElement.classList.add("embedded");
// `/chat?queue=billing` (or embed.js's data-queue) asks for one of the operator's queues instead of the default.
const QUEUE = new URLSearchParams(location.search).get("queue");
const maxChars = Number(root.dataset.maxChars) || 4000;
const els = {
  prechat: $("prechat"), form: $("prechat-form"), name: $("name"), email: $("email"),
  prechatError: $("prechat-error"), conversation: $("conversation"), status: $("status"),
  messages: $("messages"), error: $("error"), composer: $("composer"), text: $("text"),
  counter: $("counter"), send: $("send"), ended: $("ended"), newChat: $("new-chat"),
  connection: $("connection"), subtitle: $("subtitle"), leave: $("leave"),
};

const storage = {
  load() {
    try { return JSON.parse(localStorage.getItem(KEY) ?? "null"); } catch { return null; }
  },
  save(s) {
    try { localStorage.setItem(KEY, JSON.stringify(s)); } catch { /* storage blocked: chat still works */ }
  },
  clear() {
    try { localStorage.removeItem(KEY); } catch { /* nothing stored */ }
  },
};

function freshState(name = "", email = "") {
  return { token: null, contactId: null, name, email, messages: [], status: null, position: null,
           estimatedWait: null, agentName: null, ended: false };
}

let state = { ...freshState(), ...(storage.load() ?? {}) };
let socket = null;
let started = false; // the server accepted `start` on the current socket
const rendered = new Map(); // message key -> <li>

const save = () => {
  state.messages = state.messages.slice(-MAX_KEPT);
  storage.save(state);
};
const keyOf = (m) => m.clientId ?? m.id;
/** Length in Unicode code points, as the server counts it (an emoji is one, not two UTF-16 units). */
const chars = (text) => {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
};
const isSent = (m) => m.from !== "system" && !m.state;

// ---- rendering -------------------------------------------------------------------------------------------

function formatTime(at) {
  const d = at ? new Date(at) : new Date();
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function messageNode(m) {
  const li = el("li", `msg msg-${m.from}`);
  if (m.from === "system") {
    li.append(el("p", "text", m.text));
    return li;
  }
  const meta = el("div", "meta");
  const who = m.from === "agent" ? (m.agentName || "Agent") : "You";
  meta.append(el("span", "who", who));
  const time = el("time", "", formatTime(m.at));
  if (m.at) time.dateTime = m.at;
  meta.append(time);
  if (m.state === "pending") meta.append(el("span", "state", "Sending…"));
  if (m.state === "failed") meta.append(el("span", "state failed", `Not sent${m.error ? `: ${m.error}` : ""}`));
  li.append(meta, el("p", "text", m.text));
  if (m.state) li.classList.add(m.state);
  return li;
}

function nearBottom() {
  const box = els.messages;
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function renderMessage(m) {
  const stick = nearBottom();
  const node = messageNode(m);
  const old = rendered.get(keyOf(m));
  if (old) old.replaceWith(node);
  else els.messages.append(node);
  rendered.set(keyOf(m), node);
  if (stick || m.from === "customer") els.messages.scrollTop = els.messages.scrollHeight;
}

// The server's estimate (seconds), absent when nobody can serve the queue: told in whole minutes.
function waitText(seconds) {
  if (seconds == null) return "";
  if (seconds < 60) return ". Expected wait: under a minute";
  const minutes = Math.round(seconds / 60);
  return `. Expected wait: about ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

function renderStatus() {
  let text = "";
  if (state.ended) text = "This chat has ended";
  else if (state.status === "assigned") text = "An agent has joined";
  else if (state.status === "queued") {
    text = state.position ? `You are number ${state.position} in the queue${waitText(state.estimatedWait)}`
      : "Waiting for an agent…";
  } else text = started ? "Waiting for an agent…" : "Connecting…";
  if (els.status.textContent !== text) els.status.textContent = text;
  els.subtitle.textContent = state.agentName && !state.ended
    ? `You're chatting with ${state.agentName}` : "We usually reply in a few minutes";
  els.composer.hidden = state.ended;
  els.leave.hidden = state.ended || els.conversation.hidden;
  els.ended.hidden = !state.ended;
}

function showError(text) {
  els.error.textContent = text;
  els.error.hidden = !text;
}

function showConnection(text) {
  els.connection.textContent = text;
  els.connection.hidden = !text;
}

function updateCounter() {
  const n = chars(els.text.value);
  const over = n > maxChars;
  els.counter.textContent = `${n} / ${maxChars}`;
  els.counter.classList.toggle("over", over);
  els.text.setAttribute("aria-invalid", String(over));
  els.send.disabled = over;
}

function showConversation() {
  els.prechat.hidden = true;
  els.conversation.hidden = false;
  els.messages.replaceChildren();
  rendered.clear();
  for (const m of state.messages) renderMessage(m);
  renderStatus();
  updateCounter();
}

// ---- protocol --------------------------------------------------------------------------------------------

function addSystem(text) {
  const m = { id: `sys-${randomId()}`, from: "system", text, at: new Date().toISOString() };
  state.messages.push(m);
  renderMessage(m);
}

function flushPending() {
  for (const m of state.messages) {
    if (m.state === "pending" && !socket.send({ type: "message", text: m.text, client_id: m.clientId })) return;
  }
}

function onMessage(msg) {
  switch (msg.type) {
    case "started":
      onStarted(msg);
      break;
    case "history":
      mergeHistory(msg.messages ?? []);
      break;
    case "ack": {
      const m = state.messages.find((x) => x.clientId === msg.client_id);
      if (m) {
        m.state = null;
        m.id = msg.id;
        save();
        renderMessage(m);
      }
      break;
    }
    case "message":
      receive(msg);
      break;
    case "status":
      onStatus(msg);
      break;
    case "error":
      onError(msg);
      break;
    default:
      break; // newer server, older page: ignore what we do not know
  }
}

function onStarted(msg) {
  started = true;
  if (msg.token) state.token = msg.token; // a follow-up contact on the same socket keeps the old token
  const contactId = msg.contact_id ?? null;
  if (state.contactId && contactId && contactId !== state.contactId && state.messages.some(isSent)) {
    // The earlier chat had closed on the server: this is a new conversation with the same customer.
    state.status = null;
    state.position = null;
    state.estimatedWait = null;
    state.agentName = null;
    addSystem("New conversation");
  }
  state.contactId = contactId;
  socket.resetBackoff();
  showConnection("");
  save();
  renderStatus();
  flushPending();
}

/** A resumed chat's messages from the server: add what we missed, in order, and confirm what was pending. */
function mergeHistory(messages) {
  let cursor = -1;
  for (const msg of messages) {
    const i = state.messages.findIndex((x) => (msg.id && x.id === msg.id) ||
                                              (msg.client_id && x.clientId === msg.client_id));
    if (i >= 0) {
      const known = state.messages[i];
      if (known.state) {
        known.state = null;
        known.error = undefined;
      }
      known.id = msg.id;
      cursor = Math.max(cursor, i);
      continue;
    }
    const m = { id: msg.id, clientId: msg.client_id, from: msg.from === "customer" ? "customer" : "agent",
                text: String(msg.text ?? ""), at: msg.at, agentName: msg.agent_name };
    if (m.from === "agent" && m.agentName) state.agentName = m.agentName;
    cursor += 1;
    state.messages.splice(cursor, 0, m);
  }
  save();
  showConversation();
}

function receive(msg) {
  const from = msg.from === "customer" ? "customer" : "agent";
  // A resumed chat may be replayed by the server: match by server id, or by our client_id for our own lines.
  const known = state.messages.find((x) => (msg.id && x.id === msg.id) ||
                                           (msg.client_id && x.clientId === msg.client_id));
  if (known) {
    if (known.state === "pending") {
      known.state = null;
      known.id = msg.id;
      save();
      renderMessage(known);
    }
    return;
  }
  const m = { id: msg.id, clientId: msg.client_id, from, text: String(msg.text ?? ""), at: msg.at,
              agentName: msg.agent_name };
  if (from === "agent" && msg.agent_name) state.agentName = msg.agent_name;
  state.messages.push(m);
  save();
  renderMessage(m);
  renderStatus();
}

function onStatus(msg) {
  const previous = state.status;
  state.status = msg.state;
  state.position = msg.position ?? null;
  state.estimatedWait = msg.estimated_wait_s ?? null;
  if (msg.agent_name) state.agentName = msg.agent_name;
  if (msg.state === "assigned" && previous !== "assigned") addSystem("An agent has joined");
  if (msg.state === "closed" && !state.ended) {
    const hadFocus = root.contains(document.activeElement);
    state.ended = true;
    addSystem(msg.reason === "abandoned" ? "This chat has ended before an agent could answer"
      : "This chat has ended");
    socket.stop();
    showConnection("");
    save();
    renderStatus();
    if (hadFocus) els.newChat.focus(); // the composer or End chat button it was on is gone
    return;
  }
  save();
  renderStatus();
}

function onError(msg) {
  const text = msg.message || `Error: ${msg.code}`;
  const m = msg.client_id && state.messages.find((x) => x.clientId === msg.client_id);
  if (m) {
    m.state = "failed";
    m.error = text;
    save();
    renderMessage(m);
  } else if (!started && PRECHAT_ERRORS.has(msg.code)) {
    // The server refused what the pre-chat form sent: back to the form, with the details kept for editing.
    const { name, email } = state;
    resetChat(name, email);
    const badEmail = msg.code === "bad_email";
    els.prechatError.textContent = badEmail
      ? "That email address does not look right. Please check it, or leave it empty." : text;
    (badEmail ? els.email : els.name).focus();
    if (badEmail) els.email.setAttribute("aria-invalid", "true");
    return;
  } else if (!started && state.token && !TRANSIENT.has(msg.code)) {
    // The saved chat cannot be resumed (closed or unknown): start over with the same details.
    const { name, email } = state;
    resetChat(name, email);
    els.prechatError.textContent = "Your earlier chat could not be resumed. Please start a new one.";
    return;
  }
  showError(text);
}

function connect() {
  started = false;
  socket?.stop();
  socket = new ReconnectingSocket(socketUrl("/ws/chat"), {
    onopen() {
      const start = { type: "start", name: state.name };
      if (state.email) start.email = state.email;
      if (state.token) start.token = state.token;
      if (QUEUE) start.queue = QUEUE;
      socket.send(start);
    },
    onmessage: onMessage,
    onstate(s, detail) {
      if (s === "closed" || s === "waiting") {
        started = false;
        if (!state.ended) showConnection("Connection lost — reconnecting…");
        if (detail?.delay) renderStatus();
      }
    },
  });
  socket.start();
}

function sendMessage(text) {
  const m = { clientId: randomId(), from: "customer", text, at: new Date().toISOString(), state: "pending" };
  state.messages.push(m);
  save();
  renderMessage(m);
  showError("");
  if (started) socket.send({ type: "message", text, client_id: m.clientId });
}

/** Start another conversation as the same customer (the token is kept, so the agent sees the history). */
function newConversation() {
  const unsent = state.messages.filter((m) => m.state === "pending"); // typed as the chat closed: keep them
  state = { ...freshState(state.name, state.email), token: state.token, contactId: state.contactId,
            messages: unsent };
  save();
  showError("");
  showConversation();
  connect();
  els.text.focus();
}

function resetChat(name = "", email = "") {
  socket?.stop();
  socket = null;
  started = false;
  storage.clear();
  state = freshState(name, email);
  els.messages.replaceChildren();
  rendered.clear();
  showError("");
  showConnection("");
  els.conversation.hidden = true;
  els.prechat.hidden = false;
  els.name.value = name;
  els.email.value = email;
  els.name.focus();
}

// ---- wiring ----------------------------------------------------------------------------------------------

els.form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const name = els.name.value.trim();
  const email = els.email.value.trim();
  els.prechatError.textContent = "";
  if (!name) {
    els.prechatError.textContent = "Please enter your name.";
    els.name.setAttribute("aria-invalid", "true");
    els.name.focus();
    return;
  }
  els.name.removeAttribute("aria-invalid");
  if (email && !els.email.validity.valid) {
    els.prechatError.textContent = "Please enter a valid email address, or leave it empty.";
    els.email.setAttribute("aria-invalid", "true");
    els.email.focus();
    return;
  }
  els.email.removeAttribute("aria-invalid");
  state = freshState(name, email);
  save();
  showConversation();
  connect();
  els.text.focus();
});

els.composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = els.text.value.trim();
  if (!text || state.ended) return;
  if (chars(text) > maxChars) {
    showError(`Your message is ${chars(text)} characters long; the limit is ${maxChars}.`);
    return;
  }
  els.text.value = "";
  els.text.style.height = "";
  updateCounter();
  sendMessage(text);
  els.text.focus();
});

els.text.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    els.composer.requestSubmit();
  }
});
els.text.addEventListener("input", () => {
  updateCounter();
  // Grow with the text up to the CSS max-height, then scroll.
  els.text.style.height = "auto";
  els.text.style.height = `${els.text.scrollHeight + 2}px`;
});
els.newChat.addEventListener("click", newConversation);
els.leave.addEventListener("click", () => {
  if (!socket || !started || state.ended) return;
  socket.send({ type: "leave" });
});

if (state.token || state.messages.length) {
  showConversation();
  if (!state.ended) connect();
} else {
  els.name.value = state.name ?? "";
  els.email.value = state.email ?? "";
}
