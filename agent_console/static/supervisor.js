// The supervisor board: queues and agents from the public API, refreshed every few seconds.
import { api, requireLogin, setupHeader, el, formatDuration, toLogin, reasonLabel } from "./common.js";

const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);
const STATE_LABELS = { available: "Available", away: "Away", offline: "Offline", busy: "Busy",
                       wrapup: "Wrap-up", wrap_up: "Wrap-up", reserved: "Offered" };

const pct = (v) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? "–"
  : `${Math.round(Number(v) * (Number(v) <= 1 ? 100 : 1))}%`);

/** Service level is a fraction (0..1) in the API; colour it against the usual 80% target. */
function slClass(v) {
  if (v === null || v === undefined) return "";
  const x = Number(v) <= 1 ? Number(v) : Number(v) / 100;
  return x >= 0.8 ? "good" : x >= 0.6 ? "warn" : "bad";
}

function waitClass(seconds, threshold) {
  const t = Number(threshold) || 20;
  if (!seconds) return "";
  return seconds > 3 * t ? "bad" : seconds > t ? "warn" : "";
}

function cell(text, className = "") {
  return el("td", className, text);
}

// A configured queue's rules in one line under its name: who may serve it, where it overflows, when it is open.
function configSummary(config) {
  if (!config?.configured) return "";
  const parts = [];
  if (config.skills) parts.push(config.skills);
  if (config.overflow) parts.push(`overflow → ${config.overflow}`);
  if (config.hours) parts.push(`${config.hours} ${config.timezone ?? ""}`.trim());
  if (config.when_empty === "refuse") parts.push("refuses when empty");
  return parts.join(" · ");
}

// Contacts the queue turned away since routing's counters started: refused by its rules, or sent on by overflow.
function countsSummary(q) {
  const refused = Object.values(q.refused ?? {}).reduce((n, v) => n + (Number(v) || 0), 0);
  const parts = [];
  if (refused) parts.push(`${refused} refused`);
  if (q.overflowed) parts.push(`${q.overflowed} overflowed`);
  return parts.join(" · ");
}

function renderQueues(items) {
  const body = $("queues").tBodies[0];
  const rows = items.map((q) => {
    const tr = el("tr");
    const name = el("th", "", q.name);
    name.scope = "row";
    const summary = configSummary(q.config);
    if (summary) name.append(el("div", "muted queue-config", summary));
    const counts = countsSummary(q);
    if (counts) name.append(el("div", "muted queue-counts", counts));
    const threshold = q.config?.sl_threshold_s ?? q.sl_threshold_s;
    tr.append(name,
      cell(q.waiting ?? 0, `num ${q.waiting ? "strong" : ""}`),
      cell(formatDuration(q.longest_wait_s ?? 0), `num ${waitClass(q.longest_wait_s, threshold)}`),
      cell(q.waiting ? formatDuration(q.estimated_wait_s) : "–", "num"),
      cell(q.agents_signed_in === undefined ? String(q.agents_available ?? 0)
        : `${q.agents_available ?? 0} / ${q.agents_signed_in}`,
           `num ${q.agents_available === 0 && q.waiting ? "bad" : ""}`),
      cell(pct(q.service_level), `num ${slClass(q.service_level)}`),
      cell(formatDuration(q.asa_s), "num"),
      cell(formatDuration(q.aht_s), "num"),
      cell(q.handled ?? 0, "num"),
      cell(pct(q.abandonment_rate), "num"),
      cell(pct(q.occupancy), "num"));
    return tr;
  });
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", "empty", "No queues yet.");
    td.colSpan = 11;
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);

  const waiting = items.reduce((n, q) => n + (Number(q.waiting) || 0), 0);
  const longest = items.reduce((n, q) => Math.max(n, Number(q.longest_wait_s) || 0), 0);
  const available = items.reduce((n, q) => Math.max(n, Number(q.agents_available) || 0), 0);
  const sls = items.map((q) => q.service_level).filter((v) => v !== null && v !== undefined);
  const sl = sls.length ? Math.min(...sls.map(Number)) : null;
  $("t-waiting").textContent = String(waiting);
  $("t-longest").textContent = formatDuration(longest);
  $("t-longest").className = `tile-value ${waitClass(longest)}`;
  $("t-available").textContent = String(available);
  $("t-sl").textContent = pct(sl);
  $("t-sl").className = `tile-value ${slClass(sl)}`;
}

const agentRows = new Map(); // agent id -> the cells of its row, updated in place so focus and reading stay put
let awayReasons = []; // the settings' [routing] away_reasons, from /api/me
const count = (v) => (Array.isArray(v) ? v.length : Number(v) || 0);

function stateOption(state, label, reason = "") {
  const option = el("option", "", label);
  option.value = state;
  if (reason) option.dataset.reason = reason;
  return option;
}

function agentRow(agent) {
  const name = agent.name || agent.username || agent.id;
  const tr = el("tr");
  const th = el("th", "", name);
  th.scope = "row";
  const badge = el("span");
  const since = el("span", "muted small since");
  const stateCell = el("td");
  stateCell.append(badge, " ", since);
  const desktop = cell("");
  const contacts = cell("", "num");
  const offers = cell("", "num");
  const handled = cell("", "num");
  const aht = cell("", "num");
  const occupancy = cell("", "num");
  const select = el("select", "state-select");
  select.setAttribute("aria-label", `Set the state of ${name}`);
  select.append(stateOption("", "Set state…"), stateOption("available", "Available"));
  // Away says why, as on the desktop: one choice per reason of the list (away alone when the list is empty).
  if (awayReasons.length) {
    const away = el("optgroup");
    away.label = "Away";
    away.append(...awayReasons.map((reason) => stateOption("away", `Away · ${reasonLabel(reason)}`, reason)));
    select.append(away);
  } else {
    select.append(stateOption("away", "Away"));
  }
  select.append(stateOption("offline", "Offline"));
  select.addEventListener("change", async () => {
    if (!select.value) return;
    const state = select.value;
    const { reason } = select.selectedOptions[0].dataset;
    select.disabled = true;
    try {
      await api(`/api/agents/${encodeURIComponent(agent.id)}/state`,
                { method: "POST", body: reason ? { state, reason } : { state } });
      await refresh();
    } catch (err) {
      $("board-error").textContent = `Could not change the state of ${name}: ${err.message}`;
    } finally {
      select.disabled = false;
      select.value = "";
    }
  });
  const action = el("td");
  action.append(select);
  tr.append(th, stateCell, desktop, contacts, offers, handled, aht, occupancy, action);
  return { tr, name, badge, since, desktop, contacts, offers, handled, aht, occupancy };
}

// "Away · lunch": what the agent chose and why (a reason of the settings' list, or routing's own, e.g. missed_offers).
function stateText(agent) {
  const label = STATE_LABELS[agent.state] ?? agent.state ?? "Offline";
  return agent.reason ? `${label} · ${agent.reason.replaceAll("_", " ")}` : label;
}

// Time in routing's state (busy during a call even when the agent chose away: then it says so).
function sinceText(agent) {
  const since = Date.parse(agent.state_since ?? "");
  if (Number.isNaN(since)) return "";
  const doing = agent.activity && agent.activity !== agent.state ? `${STATE_LABELS[agent.activity] ?? agent.activity} ` : "";
  return `${doing}for ${formatDuration((Date.now() - since) / 1000)}`;
}

function renderAgents(items) {
  const body = $("agents").tBodies[0];
  const seen = new Set();
  const sorted = [...items].sort((a, b) => String(a.name ?? a.username).localeCompare(String(b.name ?? b.username)));
  for (const a of sorted) {
    const id = String(a.id);
    seen.add(id);
    let row = agentRows.get(id);
    if (!row) {
      row = agentRow(a);
      agentRows.set(id, row);
    }
    row.badge.className = `badge ${a.state ?? "offline"}`;
    row.badge.textContent = stateText(a);
    row.since.textContent = sinceText(a);
    row.desktop.textContent = a.connected === undefined ? "–" : a.connected ? "Connected" : "Not connected";
    row.desktop.className = a.connected === false && a.state !== "offline" ? "warn" : "muted";
    row.contacts.textContent = String(count(a.contacts));
    row.offers.textContent = String(count(a.offers));
    // routing's real-time figures of the agent (absent for one routing does not know yet)
    row.handled.textContent = String(a.handled ?? 0);
    row.aht.textContent = a.aht_s === null || a.aht_s === undefined ? "–" : formatDuration(a.aht_s);
    row.occupancy.textContent = pct(a.occupancy);
  }
  for (const [id, row] of agentRows) {
    if (!seen.has(id)) {
      row.tr.remove();
      agentRows.delete(id);
    }
  }
  // Append in name order; rows already in place are not moved, so a focused control keeps its focus.
  let previous = null;
  for (const a of sorted) {
    const { tr } = agentRows.get(String(a.id));
    const expected = previous ? previous.nextElementSibling : body.firstElementChild;
    if (tr !== expected) {
      if (previous) previous.after(tr);
      else body.prepend(tr);
    }
    previous = tr;
  }
  $("agents-empty").hidden = sorted.length > 0;
}

let timer = null;

async function refresh() {
  clearTimeout(timer);
  // Queues and agents are fetched apart: an agent may see the queues but not the other agents.
  const [queues, agents] = await Promise.allSettled([api("/api/queues"), api("/api/agents")]);
  const failed = [queues, agents].find((r) => r.status === "rejected");
  if (failed?.reason?.status === 401) {
    toLogin();
    return;
  }
  if (queues.status === "fulfilled") renderQueues(queues.value?.items ?? []);
  if (agents.status === "fulfilled") renderAgents(agents.value?.items ?? []);
  if (!failed) {
    $("board-error").textContent = "";
    $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } else {
    const err = failed.reason;
    $("board-error").textContent = err?.status === 403
      ? "Only supervisors and admins can see the agents." : `Could not refresh: ${err?.message ?? err}`;
  }
  // A board in a background tab does not poll; it refreshes at once when shown again.
  if (!document.hidden) timer = setTimeout(refresh, REFRESH_MS);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
});

async function main() {
  const me = await requireLogin();
  setupHeader(me.user);
  awayReasons = me.away_reasons ?? [];
  refresh();
}

main();
