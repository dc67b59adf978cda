// The login page: POST /api/login, then on to where the user was going (or their role's home page).
import { api } from "./common.js";

const form = document.getElementById("login-form");
const username = document.getElementById("username");
const password = document.getElementById("password");
const error = document.getElementById("login-error");
const submit = document.getElementById("login-submit");

/** Only paths on this site: an open redirect would let a phishing link bounce through our login. */
function safeNext(role) {
  const next = new URLSearchParams(location.search).get("next");
  if (next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\")) return next;
  return role === "supervisor" || role === "admin" ? "/supervisor" : "/";
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  error.textContent = "";
  if (!username.value.trim() || !password.value) {
    error.textContent = "Enter your username and password.";
    (username.value.trim() ? password : username).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = "Logging in…";
  try {
    const data = await api("/api/login", { method: "POST",
                                           body: { username: username.value.trim(), password: password.value } });
    location.assign(safeNext(data?.user?.role));
  } catch (err) {
    error.textContent = err.status === 401 ? "Wrong username or password." : err.message;
    password.value = "";
    password.focus();
    submit.disabled = false;
    submit.textContent = "Log in";
  }
});

// Already logged in (a bookmark, the back button): go straight on.
api("/api/me").then((data) => location.replace(safeNext(data?.user?.role))).catch(() => {});
