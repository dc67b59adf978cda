// One conversation on the agent desktop: its tab, the messages both ways, the reply box, wrap-up, and the
// customer's record with their previous contacts beside it. All customer text is set with textContent.
import { api, chars, el, formatDate, formatTime } from "./common.js";

const CHANNEL_NAMES = { chat: "Web chat", webchat: "Web chat", sms: "SMS", email: "Email", voice: "Voice" };
const DISPOSITIONS = { resolved: "Resolved", follow_up: "Needs follow-up", escalated: "Escalated",
                       information: "Information given", no_response: "Customer left / no response",
                       other: "Other" };
const TIMELINE_PAGE = 200; // events per page of the customer's timeline

export const channelName = (c) => CHANNEL_NAMES[c] ?? (c ? String(c) : "Contact");

// Timeline events do not name their contact's channel; GET /api/contacts/{id} does (for contacts this agent may
// see; others stay "Contact"). One request per contact, shared by every conversation on the page.
const channels = new Map();
function contactChannel(contactId) {
  const key = String(contactId);
  if (!channels.has(key)) {
    channels.set(key, api(`/api/contacts/${encodeURIComponent(key)}`)
      .then((data) => data?.contact?.channel ?? null)
      .catch(() => null));
  }
  return channels.get(key);
}

export function customerName(customer) {
  return customer?.name || customer?.emails?.[0] || customer?.phones?.[0] || "Unknown customer";
}

/** The text of a history event, wherever the server put it. */
const eventText = (ev) => ev?.data?.text ?? ev?.text ?? "";

export class Conversation {
  /**
   * @param {object} contact the `contact` of an `assigned` message
   * @param {{send: (msg: object) => boolean, maxChars: number, onSelect: Function, onDismiss: Function}} ctx
   */
  constructor(contact, ctx) {
    this.contact = contact;
    this.id = String(contact.id);
    this.ctx = ctx;
    this.messageIds = new Set();
    this.pending = []; // replies sent, waiting for the server's `message` echo
    this.unread = 0;
    this.ended = false;
    this.wrappingUp = false;
    this._buildTab();
    this._buildPanel();
  }

  get customerId() {
    return this.contact.customer_id ?? this.contact.customer?.id ?? null;
  }

  // ---- tab -----------------------------------------------------------------------------------------------

  _buildTab() {
    const tab = el("button", "tab");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.id = `tab-${this.id}`;
    tab.setAttribute("aria-controls", `panel-${this.id}`);
    tab.setAttribute("aria-selected", "false");
    tab.tabIndex = -1;
    this.tabName = el("span", "tab-name", customerName(this.contact.customer));
    this.tabMeta = el("span", "tab-meta muted", channelName(this.contact.channel));
    this.tabBadge = el("span", "tab-badge");
    this.tabBadge.hidden = true;
    tab.append(this.tabName, this.tabBadge, this.tabMeta);
    tab.addEventListener("click", () => this.ctx.onSelect(this));
    this.tab = tab;
  }

  setSelected(selected) {
    this.tab.setAttribute("aria-selected", String(selected));
    this.tab.tabIndex = selected ? 0 : -1;
    this.panel.hidden = !selected;
    if (selected) {
      this.unread = 0;
      this._renderBadge();
      this.messages.scrollTop = this.messages.scrollHeight;
    }
  }

  _renderBadge() {
    this.tabBadge.hidden = this.unread === 0;
    this.tabBadge.textContent = String(this.unread);
    this.tabBadge.setAttribute("aria-label", `${this.unread} unread`);
  }

  // ---- panel ---------------------------------------------------------------------------------------------

  _buildPanel() {
    const panel = document.getElementById("tpl-conversation").content.firstElementChild.cloneNode(true);
    panel.id = `panel-${this.id}`;
    panel.setAttribute("aria-labelledby", `tab-${this.id}`);
    panel.hidden = true;
    const q = (sel) => panel.querySelector(sel);
    q(".conv-title").textContent = customerName(this.contact.customer);
    const sub = [channelName(this.contact.channel)];
    if (this.contact.queue) sub.push(`queue ${this.contact.queue}`);
    q(".conv-sub").textContent = sub.join(" · ");
    this.stateBadge = q(".conv-state");
    this.endButton = q(".end");
    this.endButton.addEventListener("click", () => {
      if (this.ctx.send({ type: "end", contact_id: this.id })) this.endButton.disabled = true;
      else this.ctx.toast("Not connected — try again in a moment.", "error");
    });
    this.messages = q(".messages");
    this.messages.setAttribute("aria-label", `Messages with ${customerName(this.contact.customer)}`);

    this.replyForm = q(".reply");
    this.replyText = this.replyForm.querySelector("textarea");
    this.replyText.id = `reply-${this.id}`;
    this.replyForm.querySelector("label").htmlFor = this.replyText.id;
    this.counter = this.replyForm.querySelector(".counter");
    this.sendButton = this.replyForm.querySelector("button");
    this.replyForm.addEventListener("submit", (ev) => { ev.preventDefault(); this._sendReply(); });
    this.replyText.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this._sendReply();
      }
    });
    this.replyText.addEventListener("input", () => this._updateCounter());

    this.wrapForm = q(".wrapup");
    this.disposition = this.wrapForm.querySelector("select");
    this.noteInput = this.wrapForm.querySelector(".note");
    const labels = this.wrapForm.querySelectorAll("label");
    this.disposition.id = `disposition-${this.id}`;
    this.noteInput.id = `note-${this.id}`;
    labels[0].htmlFor = this.disposition.id;
    labels[1].htmlFor = this.noteInput.id;
    this.wrapError = this.wrapForm.querySelector(".form-error");
    this.wrapButton = this.wrapForm.querySelector("button");
    this.wrapForm.addEventListener("submit", (ev) => { ev.preventDefault(); this._wrapUp(); });

    this.profile = q(".profile");
    this.timeline = q(".timeline");
    this.timelineEmpty = q(".timeline-empty");
    this.moreButton = q(".more");
    this.moreButton.addEventListener("click", () => this._loadEarlier());
    this.events = []; // the customer's timeline, newest first
    this.nextBefore = null;
    this.panel = panel;
    this._renderProfile(this.contact.customer);
    this._renderState();
    this._updateCounter();
  }

  _renderState() {
    const [label, kind] = this.wrappingUp ? ["Wrapping up", "away"]
      : this.ended ? ["Wrap-up", "away"] : ["Active", "available"];
    this.stateBadge.textContent = label;
    this.stateBadge.className = `conv-state badge ${kind}`;
    this.replyText.disabled = this.ended || this.wrappingUp;
    this.endButton.hidden = this.ended || this.wrappingUp;
    this.sendButton.disabled = this.ended || this.wrappingUp || chars(this.replyText.value) > this.ctx.maxChars;
  }

  _updateCounter() {
    const n = chars(this.replyText.value);
    const over = n > this.ctx.maxChars;
    this.counter.textContent = `${n} / ${this.ctx.maxChars}`;
    this.counter.classList.toggle("over", over);
    this.replyText.setAttribute("aria-invalid", String(over));
    this.sendButton.disabled = over || this.ended || this.wrappingUp;
  }

  // ---- messages ------------------------------------------------------------------------------------------

  /**
   * Show this conversation from an `assigned` message: its `messages` ({id, direction, text, at}), or failing
   * that the message events of this contact in `history`; the rest of `history` is the customer's timeline.
   */
  load(assigned) {
    const events = Array.isArray(assigned.history) ? assigned.history : [];
    let messages = assigned.messages;
    if (!Array.isArray(messages)) {
      messages = events
        .filter((ev) => String(ev.contact_id) === this.id && (ev.type === "message.in" || ev.type === "message.out"))
        .map((ev) => ({ id: ev.id, direction: ev.type === "message.in" ? "in" : "out", text: eventText(ev),
                        at: ev.at }))
        .sort((a, b) => String(a.at).localeCompare(String(b.at)));
    }
    for (const m of messages) this.addMessage(m, { quiet: true });
    // A greeting after a reconnect lists every recorded message: a reply still pending was lost with the socket.
    while (this.pending.length) this.failLastReply();
    if (events.length) {
      this.events = events;
      this._renderTimeline();
    }
  }

  /** Add a message (from the server); returns false when it was already shown. */
  addMessage(msg, { quiet = false } = {}) {
    if (msg.id && this.messageIds.has(String(msg.id))) return false;
    if (msg.id) this.messageIds.add(String(msg.id));
    if (msg.direction === "out") {
      const i = this.pending.findIndex((p) => p.text === msg.text);
      if (i >= 0) {
        const [p] = this.pending.splice(i, 1);
        p.node.replaceWith(this._messageNode(msg));
        return true;
      }
    }
    const stick = this._nearBottom();
    this.messages.append(this._messageNode(msg));
    if (stick || msg.direction === "out") this.messages.scrollTop = this.messages.scrollHeight;
    if (!quiet && msg.direction === "in" && this.panel.hidden) {
      this.unread += 1;
      this._renderBadge();
    }
    return true;
  }

  _nearBottom() {
    const box = this.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  }

  _messageNode(msg, state) {
    const li = el("li", `msg msg-${msg.direction === "in" ? "in" : "out"}`);
    const meta = el("div", "meta");
    meta.append(el("span", "who", msg.direction === "in" ? customerName(this.contact.customer) : "You"));
    const time = el("time", "", formatTime(msg.at));
    if (msg.at) time.dateTime = msg.at;
    meta.append(time);
    if (state === "pending") meta.append(el("span", "state", "Sending…"));
    if (state === "failed") meta.append(el("span", "state failed", "Not sent"));
    li.append(meta, el("p", "text", msg.text));
    if (state) li.classList.add(state);
    return li;
  }

  _sendReply() {
    const text = this.replyText.value.trim();
    if (!text || this.ended || this.wrappingUp || chars(text) > this.ctx.maxChars) return;
    if (!this.ctx.send({ type: "reply", contact_id: this.id, text })) {
      this.ctx.toast("Not connected — your reply was kept in the box. Try again in a moment.", "error");
      return;
    }
    const node = this._messageNode({ direction: "out", text, at: new Date().toISOString() }, "pending");
    this.pending.push({ text, node });
    this.messages.append(node);
    this.messages.scrollTop = this.messages.scrollHeight;
    this.replyText.value = "";
    this._updateCounter();
  }

  /** The oldest pending reply did not go out (refused, or lost with the socket): mark it, and offer its text
   * again in the reply box when that is empty. */
  failLastReply() {
    const p = this.pending.shift();
    if (!p) return;
    const failed = this._messageNode({ direction: "out", text: p.text, at: new Date().toISOString() }, "failed");
    p.node.replaceWith(failed);
    if (!this.replyText.value) {
      this.replyText.value = p.text;
      this._updateCounter();
    }
  }

  // ---- wrap-up -------------------------------------------------------------------------------------------

  _wrapUp() {
    this.wrapError.textContent = "";
    if (!this.disposition.value) {
      this.wrapError.textContent = "Choose a disposition.";
      this.disposition.focus();
      return;
    }
    const sent = this.ctx.send({ type: "wrapup", contact_id: this.id, disposition: this.disposition.value,
                                 note: this.noteInput.value.trim() });
    if (!sent) {
      this.wrapError.textContent = "Not connected — try again in a moment.";
      return;
    }
    this.wrappingUp = true;
    this.wrapButton.disabled = true;
    this.wrapButton.textContent = "Wrapping up…";
    this._renderState();
  }

  /** The server refused the wrap-up: let the agent correct and retry. */
  wrapUpFailed(message) {
    this.wrappingUp = false;
    this.wrapButton.disabled = false;
    this.wrapButton.textContent = "Finish and wrap up";
    this.wrapError.textContent = message;
    this._renderState();
  }

  /** A line in the conversation about what happened to it (not a message). */
  systemLine(text) {
    this.messages.append(el("li", "msg msg-system", text));
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  /** The customer left; the conversation may go on being shown until the agent ends or wraps it up. */
  customerLeft() {
    if (this.customerGone) return;
    this.customerGone = true;
    this.systemLine("The customer has left the conversation.");
    this.tabMeta.textContent = `${channelName(this.contact.channel)} · customer left`;
  }

  /** The conversation is over: no more replies, wrap-up is what is left to do. */
  markEnded() {
    if (this.ended) return;
    this.ended = true;
    this.systemLine("The conversation has ended. Choose a disposition to wrap up.");
    this.tabMeta.textContent = `${channelName(this.contact.channel)} · wrap-up`;
    this._renderState();
    if (!this.panel.hidden) this.disposition.focus();
  }

  // ---- customer record -----------------------------------------------------------------------------------

  _renderProfile(customer) {
    const rows = [["Name", customer?.name || "—"]];
    if (customer?.organisation) rows.push(["Organisation", customer.organisation]);
    if (customer?.emails?.length) rows.push(["Email", customer.emails.join(", ")]);
    if (customer?.phones?.length) rows.push(["Phone", customer.phones.join(", ")]);
    if (customer?.tags?.length) rows.push(["Tags", customer.tags.join(", ")]);
    this.profile.replaceChildren();
    for (const [k, v] of rows) this.profile.append(el("dt", "", k), el("dd", "", v));
  }

  /** Fetch the customer's record and timeline and show their previous contacts. */
  async loadCustomer() {
    if (!this.customerId) {
      this.timelineEmpty.textContent = "No customer record.";
      return;
    }
    try {
      const data = await api(`/api/customers/${encodeURIComponent(this.customerId)}?limit=${TIMELINE_PAGE}`);
      if (data?.customer) {
        this.contact.customer = { ...(this.contact.customer ?? {}), ...data.customer };
        this._renderProfile(this.contact.customer);
      }
      const timeline = data?.timeline ?? [];
      if (timeline.length >= this.events.length) this.events = timeline;
      this.nextBefore = data?.next_before ?? null;
      this._renderTimeline();
    } catch (err) {
      // The `assigned` message already carried the timeline; only say so when there is nothing to show.
      if (!this.timelineShown) this.timelineEmpty.textContent = `Could not load the history: ${err.message}`;
    }
  }

  /** The next page of the customer's timeline (older events). */
  async _loadEarlier() {
    if (!this.nextBefore) return;
    this.moreButton.disabled = true;
    try {
      const path = `/api/customers/${encodeURIComponent(this.customerId)}` +
        `?limit=${TIMELINE_PAGE}&before=${encodeURIComponent(this.nextBefore)}`;
      const data = await api(path);
      const known = new Set(this.events.map((e) => String(e.id)));
      this.events.push(...(data?.timeline ?? []).filter((e) => !known.has(String(e.id))));
      this.nextBefore = data?.next_before ?? null;
      this._renderTimeline();
    } catch (err) {
      this.ctx.toast(`Could not load earlier contacts: ${err.message}`, "error");
    } finally {
      this.moreButton.disabled = false;
    }
  }

  _renderTimeline() {
    // Events come newest first; group them by contact, leaving out the one on screen.
    const groups = new Map();
    for (const ev of this.events) {
      if (!ev.contact_id || String(ev.contact_id) === this.id) continue;
      if (!groups.has(ev.contact_id)) groups.set(ev.contact_id, []);
      groups.get(ev.contact_id).push(ev);
    }
    const open = new Set([...this.timeline.querySelectorAll("details[open]")].map((d) => d.dataset.contactId));
    this.timeline.replaceChildren();
    for (const [contactId, evs] of groups) {
      const item = this._previousContact(contactId, evs);
      if (open.has(String(contactId))) item.querySelector("details").open = true;
      this.timeline.append(item);
    }
    this.timelineShown = true;
    this.timelineEmpty.hidden = groups.size > 0;
    this.timelineEmpty.textContent = "This is the customer's first contact.";
    this.moreButton.hidden = !this.nextBefore;
  }

  /** How one event of an earlier contact reads in the timeline, or null for events an agent need not see. */
  _timelineLine(ev) {
    const data = ev.data ?? {};
    switch (ev.type) {
      case "message.in":
        return { label: customerName(this.contact.customer), text: eventText(ev) };
      case "message.out":
        return { label: data.agent_name ?? (String(ev.agent_id) === String(this.ctx.me?.id) ? "You" : "Agent"),
                 text: eventText(ev) };
      case "note":
        return { label: data.promise ? "Promise" : "Note", text: data.text ?? data.note ?? "" };
      case "contact.wrapped_up":
        return { label: `Wrapped up${data.disposition ? `: ${DISPOSITIONS[data.disposition] ?? data.disposition}` : ""}`,
                 text: data.note ?? "" };
      case "contact.customer_left":
        return { label: "Customer left", text: "" };
      case "survey.response":
        return { label: "Survey", text: data.text ?? (data.score !== undefined ? `Score ${data.score}` : "") };
      default:
        return null;
    }
  }

  _previousContact(contactId, evs) {
    const li = el("li", "prev");
    const details = el("details");
    const summary = el("summary");
    const channel = evs.find((e) => e.channel ?? e.data?.channel)?.channel ??
      evs.find((e) => e.data?.channel)?.data.channel;
    const wrapped = evs.find((e) => e.type === "contact.wrapped_up");
    const disposition = wrapped?.data?.disposition;
    const messages = evs.filter((e) => e.type === "message.in" || e.type === "message.out");
    const head = el("span", "prev-head");
    const label = el("strong", "", channel ? channelName(channel) : "Contact");
    if (!channel) contactChannel(contactId).then((c) => { if (c) label.textContent = channelName(c); });
    head.append(label, el("span", "muted", formatDate(evs.at(-1).at)));
    summary.append(head);
    const info = el("span", "prev-info muted",
                    `${messages.length} message${messages.length === 1 ? "" : "s"}` +
                    (disposition ? ` · ${DISPOSITIONS[disposition] ?? disposition}` : ""));
    summary.append(info);
    const first = messages.at(-1);
    if (first) summary.append(el("span", "prev-preview", eventText(first)));
    details.append(summary);
    const items = el("ol", "prev-events");
    // A wrap-up note is also recorded as a note event: show its text once, on the note's line.
    const noted = new Set(evs.filter((e) => e.type === "note").map((e) => e.data?.text));
    for (const ev of [...evs].reverse()) {
      const line = this._timelineLine(ev);
      if (!line) continue; // routing's bookkeeping (queued, offered, ...) is noise here
      if (ev.type === "contact.wrapped_up" && noted.has(line.text)) line.text = "";
      const row = el("li", `prev-event ${ev.type.replace(/\W/g, "-")}`);
      row.append(el("span", "muted", `${formatTime(ev.at)} · ${line.label}`));
      if (line.text) row.append(el("span", "", line.text));
      items.append(row);
    }
    details.append(items);
    details.dataset.contactId = String(contactId);
    li.append(details);
    li.dataset.contactId = String(contactId);
    return li;
  }
}
