// Embeds the chat widget in another site: a launcher button in the corner that opens /chat in a frame.
//   <script src="https://YOUR-CONTACT-CENTER/static/chat/embed.js" defer></script>
// Optional attributes on that script tag: data-label="Chat with us", data-color="#0f766e", data-queue="billing"
// (one of the server's configured queues; default: its default queue).
// A classic script (not a module), so it loads from another origin without CORS.
(() => {
  const script = document.currentScript;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const label = script.dataset.label || "Chat with us";
  const color = script.dataset.color || "#0f766e";
  const queue = script.dataset.queue ? `&queue=${encodeURIComponent(script.dataset.queue)}` : "";

  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "cc-chat-frame");
  Object.assign(button.style, {
    position: "fixed", right: "20px", bottom: "20px", zIndex: "2147483646", border: "0", cursor: "pointer",
    borderRadius: "999px", padding: "12px 20px", background: color, color: "#fff",
    font: "600 15px system-ui, sans-serif", boxShadow: "0 6px 20px rgba(16,24,40,.25)",
  });

  const frame = document.createElement("iframe");
  frame.id = "cc-chat-frame";
  frame.title = label;
  frame.hidden = true;
  Object.assign(frame.style, {
    position: "fixed", right: "20px", bottom: "80px", zIndex: "2147483647", border: "0", borderRadius: "14px",
    width: "min(400px, calc(100vw - 40px))", height: "min(620px, calc(100vh - 110px))", background: "#fff",
    boxShadow: "0 10px 30px rgba(16,24,40,.25)",
  });

  const setOpen = (open) => {
    // The chat loads on first open, so a visit that never opens it costs no socket and no request.
    if (open && !frame.src) frame.src = `${origin}/chat?embed=1${queue}`;
    frame.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => {
    setOpen(frame.hidden);
    if (!frame.hidden) frame.focus();
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !frame.hidden) {
      setOpen(false);
      button.focus();
    }
  });

  const mount = () => document.body.append(frame, button);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
