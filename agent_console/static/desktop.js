// The agent desktop: state switch, offers with a countdown, concurrent conversations as tabs, over /ws/agent.
import { api, requireLogin, setupHeader, toast, showConnection, toLogin, el, reasonLabel } from "./common.js";
import { ReconnectingSocket, socketUrl } from "/static/common/reconnect.js";
import { Conversation, channelName, customerName } from "./conversation.js";

const OFFER_ERRORS = new Set(["offer_not_found", "offer_expired", "not_your_offer", "offer_taken"]);
const $ = (id) => document.getElementById(id);
const desk = document.querySelector(".desk");
const maxChars = Number(desk.dataset.maxChars) || 4000;
const stateSwitch = $("state-switch");
const reasonField = $("away-reason-field");
const reasonPicker = $("away-reason");
const offersList = $("offers");
const tabs = $("tabs");
const workspace = $("workspace");

const offers = new Map(); // offer_id -> {node, deadline, total, contact, answered}
const conversations = new Map(); // contact_id -> Conversation
let active = null;
let desiredState = "offline";
let desiredReason = null; // why the agent is away: one of the server's away_reasons, or null
let greeted = true; // false from a socket's opening until the server's first state on it
let me = null; // the logged-in user
let socket = null;
let ticker = null;
const baseTitle = document.title;

// ---- agent state -----------------------------------------------------------------------------------------

function setReasons(reasons) {
  reasonPicker.replaceChildren(...reasons.map((reason) => {
    const option = el("option", "", reasonLabel(reason));
    option.value = reason;
    return option;
  }));
}

function showState(state, reason = null) {
  const input = stateSwitch.querySelector(`input[value="${CSS.escape(state)}"]`);
  if (input) input.checked = true;
  document.body.dataset.state = state;
  reasonPicker.querySelector("option.other")?.remove();
  reasonField.hidden = state !== "away" || (!reasonPicker.options.length && !reason);
  if (state !== "away") return;
  // A reason not in the list (none given, or routing's own such as missed_offers) shows as it is, not choosable.
  if (![...reasonPicker.options].some((o) => o.value === reason)) {
    const other = el("option", "other", reasonLabel(reason));
    other.value = "";
    other.disabled = true;
    reasonPicker.prepend(other);
    other.selected = true; // not `value = ""`: Chrome then selects nothing when the away comes while available
    return;
  }
  reasonPicker.value = reason;
}

const choosable = (reason) => [...reasonPicker.options].some((o) => o.value === reason && !o.disabled);

function sendState() {
  const message = { type: "state", state: desiredState };
  // Only a reason of the list: one routing set (missed_offers) is not the agent's to give.
  if (desiredState === "away" && choosable(desiredReason)) message.reason = desiredReason;
  if (!socket.send(message)) toast("Not connected — will apply when back.", "error");
}

stateSwitch.addEventListener("change", (ev) => {
  desiredState = ev.target.value;
  // Away says why: the list's first reason (the most common, e.g. a break), which the agent may change at once.
  const first = reasonPicker.querySelector("option:not(.other)");
  desiredReason = desiredState === "away" ? (first?.value ?? null) : null;
  showState(desiredState, desiredReason);
  sendState();
  if (desiredState === "away" && !reasonField.hidden) reasonPicker.focus();
});

reasonPicker.addEventListener("change", () => {
  desiredReason = reasonPicker.value || null;
  reasonPicker.querySelector("option.other")?.remove();
  sendState();
});

// ---- offers ----------------------------------------------------------------------------------------------

// A soft two-note chime when an offer arrives, for agents working in another window. Browsers allow sound only
// after a user gesture, so the audio context is made on the first click on the page.
const chimeBox = $("chime");
const CHIME_KEY = "cc.desktop.chime";
let audio = null;
try { chimeBox.checked = localStorage.getItem(CHIME_KEY) !== "off"; } catch { /* storage blocked: default on */ }
chimeBox.addEventListener("change", () => {
  try { localStorage.setItem(CHIME_KEY, chimeBox.checked ? "on" : "off"); } catch { /* not remembered */ }
});
document.addEventListener("click", () => {
  try { audio ??= new AudioContext(); } catch { /* no Web Audio */ }
}, { once: true });

function chime() {
  if (!chimeBox.checked || !audio) return;
  try {
    const start = audio.currentTime;
    [660, 880].forEach((freq, i) => {
      const at = start + i * 0.18;
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.12, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + 0.17);
    });
  } catch {
    // No sound is no reason to lose the offer: the card and the title still show it.
  }
}

function addOffer(msg) {
  if (offers.has(msg.offer_id)) return;
  const node = $("tpl-offer").content.firstElementChild.cloneNode(true);
  const contact = msg.contact ?? {};
  const name = customerName(contact.customer);
  node.querySelector(".channel-badge").textContent = channelName(contact.channel);
  node.querySelector(".offer-customer").textContent = name;
  node.querySelector(".offer-queue").textContent = contact.queue ? `Queue: ${contact.queue}` : "";
  node.setAttribute("aria-label", `Offer: ${channelName(contact.channel)} from ${name}`);
  const total = Math.max(0, Number(msg.expires_in_s) || 0) * 1000;
  const offer = { node, total, deadline: performance.now() + total, contact, answered: false };
  const accept = node.querySelector(".accept");
  const reject = node.querySelector(".reject");
  accept.addEventListener("click", () => answer(msg.offer_id, "accept"));
  reject.addEventListener("click", () => answer(msg.offer_id, "reject"));
  offers.set(msg.offer_id, offer);
  offersList.append(node);
  chime();
  renderOffers();
  tickOffers();
  if (!ticker) ticker = setInterval(tickOffers, 250);
}

function answer(offerId, kind) {
  const offer = offers.get(offerId);
  if (!offer || offer.answered) return;
  if (!socket.send({ type: kind, offer_id: offerId })) {
    toast("Not connected — try again in a moment.", "error");
    return;
  }
  offer.answered = kind;
  offer.node.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  if (kind === "reject") removeOffer(offerId);
  else offer.node.querySelector(".countdown-text").textContent = "Accepting…";
}

function removeOffer(offerId) {
  const offer = offers.get(offerId);
  if (!offer) return;
  const hadFocus = offer.node.contains(document.activeElement);
  offer.node.remove();
  offers.delete(offerId);
  renderOffers();
  if (hadFocus) (active?.replyText ?? $("main")).focus();
}

function tickOffers() {
  const now = performance.now();
  for (const [id, offer] of offers) {
    const left = Math.max(0, offer.deadline - now);
    if (left <= 0 && !offer.answered) {
      removeOffer(id);
      toast(`The offer from ${customerName(offer.contact.customer)} expired.`, "warn");
      continue;
    }
    if (offer.answered) continue;
    const secs = Math.ceil(left / 1000);
    offer.node.querySelector(".countdown-text").textContent = `${secs} s left`;
    offer.node.querySelector(".countdown-bar span").style.width =
      `${offer.total ? (100 * left) / offer.total : 0}%`;
    offer.node.classList.toggle("urgent", secs <= 5);
  }
  if (offers.size === 0) {
    clearInterval(ticker);
    ticker = null;
  }
}

function renderOffers() {
  $("offers-empty").hidden = offers.size > 0;
  const open = [...offers.values()].filter((o) => !o.answered).length;
  document.title = open ? `(${open}) Offer · ${baseTitle}` : baseTitle;
}

// ---- conversations ---------------------------------------------------------------------------------------

function select(conv) {
  active = conv;
  for (const c of conversations.values()) c.setSelected(c === conv);
  $("placeholder").hidden = Boolean(conv);
}

function onAssigned(msg) {
  const contact = msg.contact ?? {};
  for (const [id, offer] of offers) if (String(offer.contact.id) === String(contact.id)) removeOffer(id);
  let conv = conversations.get(String(contact.id));
  if (!conv) {
    conv = new Conversation(contact, {
      send: (m) => socket.send(m), maxChars, toast, me,
      onSelect: (c) => { select(c); c.tab.focus(); },
    });
    conversations.set(conv.id, conv);
    tabs.append(conv.tab);
    workspace.append(conv.panel);
    $("tabs-empty").hidden = true;
    conv.loadCustomer();
  }
  conv.load(msg);
  if (!active || active === conv) {
    select(conv);
    conv.replyText.focus();
  }
}

function removeConversation(conv, message) {
  conv.tab.remove();
  conv.panel.remove();
  conversations.delete(conv.id);
  toast(message);
  if (active === conv) {
    const next = conversations.values().next().value ?? null;
    select(next);
    (next?.tab ?? $("main")).focus();
  }
  $("tabs-empty").hidden = conversations.size > 0;
}

function onClosed(msg) {
  const conv = conversations.get(String(msg.contact_id));
  if (conv) removeConversation(conv, `Wrapped up: ${customerName(conv.contact.customer)}`);
}

function onOfferEnded(msg) {
  const offer = offers.get(msg.offer_id);
  if (!offer) return;
  removeOffer(msg.offer_id);
  const who = customerName(offer.contact.customer);
  if (msg.reason === "timeout") toast(`The offer from ${who} expired.`, "warn");
  else if (msg.reason === "abandoned") toast(`${who} left before you answered.`, "warn");
  else if (msg.reason === "revoked") toast(`The offer from ${who} was withdrawn.`, "warn");
}

function onError(msg) {
  const text = msg.message || msg.code;
  if (msg.offer_id || OFFER_ERRORS.has(msg.code)) {
    for (const [id, offer] of offers) if (id === msg.offer_id || (!msg.offer_id && offer.answered)) removeOffer(id);
    toast(`That offer is no longer available (${text}).`, "warn");
    return;
  }
  const conv = msg.contact_id ? conversations.get(String(msg.contact_id)) : null;
  if (conv && msg.code === "not_your_contact") {
    // The server no longer has it assigned to us (e.g. it restarted): the tab would only collect errors.
    removeConversation(conv, `The conversation with ${customerName(conv.contact.customer)} is no longer yours.`);
    return;
  }
  if (conv?.wrappingUp) conv.wrapUpFailed(text);
  else if (conv?.pending.length) conv.failLastReply();
  if (conv) conv.endButton.disabled = false;
  toast(text, "error");
}

// Keyboard: Up/Down (and Home/End) move between conversation tabs, as the ARIA tabs pattern says.
tabs.addEventListener("keydown", (ev) => {
  const list = [...conversations.values()];
  const i = list.indexOf(active);
  let next = null;
  if (ev.key === "ArrowDown" || ev.key === "ArrowRight") next = list[(i + 1) % list.length];
  else if (ev.key === "ArrowUp" || ev.key === "ArrowLeft") next = list[(i - 1 + list.length) % list.length];
  else if (ev.key === "Home") next = list[0];
  else if (ev.key === "End") next = list.at(-1);
  if (!next) return;
  ev.preventDefault();
  select(next);
  next.tab.focus();
});

// ---- socket ----------------------------------------------------------------------------------------------

function onMessage(msg) {
  switch (msg.type) {
    case "state":
      if (!greeted) {
        greeted = true;
        // The server's state is the truth (an away routing set keeps its reason); only when it lost us (the
        // socket stayed down past its grace, or it restarted) does the desktop ask again for what the agent had.
        if (msg.state === "offline" && desiredState !== "offline") {
          sendState();
          break;
        }
      }
      desiredState = msg.state; // the server's word, e.g. a supervisor's change
      desiredReason = msg.reason ?? null;
      showState(msg.state, desiredReason);
      break;
    case "offer":
      addOffer(msg);
      break;
    case "offer_cancelled":
    case "offer_ended":
      onOfferEnded(msg);
      break;
    case "assigned":
      onAssigned(msg);
      break;
    case "message": {
      const conv = conversations.get(String(msg.contact_id));
      conv?.addMessage(msg.message ?? {});
      break;
    }
    case "customer_left":
      conversations.get(String(msg.contact_id))?.customerLeft();
      break;
    case "ended":
      conversations.get(String(msg.contact_id))?.markEnded();
      break;
    case "closed":
      onClosed(msg);
      break;
    case "error":
      onError(msg);
      break;
    default:
      break; // a newer server: ignore what this page does not know
  }
}

async function onSocketDown() {
  stateSwitch.disabled = true;
  reasonPicker.disabled = true;
  showConnection("Reconnecting…");
  try {
    await api("/api/me");
  } catch (err) {
    if (err.status === 401) {
      socket.stop();
      toLogin();
    }
  }
}

async function main() {
  const login = await requireLogin();
  me = login.user;
  setupHeader(me);
  desiredState = login.state && login.state !== "offline" ? login.state : "offline";
  desiredReason = login.reason ?? null;
  setReasons(login.away_reasons ?? []);
  showState(login.state ?? "offline", desiredReason);
  socket = new ReconnectingSocket(socketUrl("/ws/agent"), {
    onopen() {
      socket.resetBackoff();
      stateSwitch.disabled = false;
      reasonPicker.disabled = false;
      showConnection("");
      // The server greets a new socket with every offer still open; one answered on the lost socket may be gone.
      for (const id of [...offers.keys()]) removeOffer(id);
      greeted = false; // the greeting's state says whether the server still has ours
    },
    onmessage: onMessage,
    onstate(s) {
      if (s === "closed") onSocketDown();
    },
  });
  socket.start();
}

main().catch((err) => {
  $("placeholder").replaceChildren(el("h2", "", "Something went wrong"), el("p", "form-error", err.message));
});
