// Helpers shared by the console pages: the JSON API, DOM building, formatting, the page header.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Call the JSON API; throws ApiError with the server's stable code on any non-2xx answer. */
export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached. Check your connection.");
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* an empty or non-JSON body */ }
  if (!res.ok) {
    const err = data?.error ?? {};
    throw new ApiError(res.status, err.code ?? `http_${res.status}`, err.message ?? res.statusText);
  }
  return data;
}

/** Send the browser to the login page, coming back here afterwards. */
export function toLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/** The logged-in user and state from GET /api/me, or a redirect to the login page. */
export async function requireLogin() {
  try {
    return await api("/api/me");
  } catch (err) {
    if (err.status === 401) {
      toLogin();
      return new Promise(() => {}); // the page is going away
    }
    throw err;
  }
}

/** An away reason as people read it ("missed_offers" -> "Missed offers"); none given says so. */
export const reasonLabel = (reason) => (reason ? reason[0].toUpperCase() + reason.slice(1).replaceAll("_", " ")
  : "No reason given");

/** Create an element with a class and text content (never markup). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** Length in Unicode code points, as the server counts it (an emoji is one, not two UTF-16 units). */
export function chars(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

export function formatTime(at) {
  const d = at ? new Date(at) : new Date();
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function formatDate(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit",
                                minute: "2-digit" });
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "–";
  const s = Math.max(0, Math.round(Number(seconds)));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/** A short message in the corner that reads itself to screen readers. */
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const node = el("div", `toast ${kind}`, text);
  box.append(node);
  setTimeout(() => node.remove(), 5000);
}

export function showConnection(text) {
  const node = document.getElementById("connection");
  if (!node) return;
  node.textContent = text;
  node.hidden = !text;
}

/** Fill the header: user name, the supervisor link for those allowed, the logout button. */
export function setupHeader(user) {
  document.getElementById("user-name").textContent = user.username;
  const sup = document.getElementById("nav-supervisor");
  if (sup && (user.role === "supervisor" || user.role === "admin")) sup.hidden = false;
  document.getElementById("logout").addEventListener("click", async () => {
    try { await api("/api/logout", { method: "POST" }); } catch { /* logged out either way */ }
    location.assign("/login");
  });
}
