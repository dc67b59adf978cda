// The supervisor board: queues and agents from the public API, refreshed every few seconds.
import { api, requireLogin, setupHeader, el, formatDuration, toLogin } from "./common.js";

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

function renderQueues(items) {
  const body = $("queues").tBodies[0];
  const rows = items.map((q) => {
    const tr = el("tr");
    const name = el("th", "", q.name);
    name.scope = "row";
    tr.append(name,
      cell(q.waiting ?? 0, `num ${q.waiting ? "strong" : ""}`),
      cell(formatDuration(q.longest_wait_s ?? 0), `num ${waitClass(q.longest_wait_s, q.sl_threshold_s)}`),
      cell(q.agents_available ?? 0, `num ${q.agents_available === 0 && q.waiting ? "bad" : ""}`),
      cell(pct(q.service_level), `num ${slClass(q.service_level)}`),
      cell(formatDuration(q.asa_s), "num"),
      cell(formatDuration(q.aht_s), "num"),
      cell(pct(q.abandonment_rate), "num"));
    return tr;
  });
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", "empty", "No queues yet.");
    td.colSpan = 8;
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

function renderAgents(items) {
  const body = $("agents").tBodies[0];
  const order = { available: 0, busy: 1, reserved: 1, wrapup: 2, wrap_up: 2, away: 3, offline: 4 };
  const sorted = [...items].sort((a, b) => (order[a.state] ?? 5) - (order[b.state] ?? 5) ||
                                           String(a.name ?? a.username).localeCompare(String(b.name ?? b.username)));
  const rows = sorted.map((a) => {
    const tr = el("tr");
    const name = el("th", "", a.name || a.username || a.id);
    name.scope = "row";
    const state = el("td");
    const badge = el("span", `badge ${a.state ?? "offline"}`, STATE_LABELS[a.state] ?? a.state ?? "Offline");
    state.append(badge);
    const count = (v) => (Array.isArray(v) ? v.length : Number(v) || 0);
    const desktop = a.connected === undefined ? "–" : a.connected ? "Connected" : "Not connected";
    tr.append(name, state, cell(desktop, a.connected === false && a.state !== "offline" ? "warn" : "muted"),
              cell(count(a.contacts), "num"), cell(count(a.offers), "num"));
    return tr;
  });
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", "empty", "No agents yet.");
    td.colSpan = 5;
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

let timer = null;

async function refresh() {
  clearTimeout(timer);
  try {
    const [queues, agents] = await Promise.all([api("/api/queues"), api("/api/agents")]);
    renderQueues(queues?.items ?? []);
    renderAgents(agents?.items ?? []);
    $("board-error").textContent = "";
    $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    if (err.status === 401) {
      toLogin();
      return;
    }
    $("board-error").textContent = err.status === 403
      ? "Only supervisors can see the board." : `Could not refresh: ${err.message}`;
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
  refresh();
}

main();
