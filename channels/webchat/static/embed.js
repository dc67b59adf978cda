// Embeds the chat widget in another site: a round launcher button in the corner that opens /chat in a frame.
//   <script type="module" src="https://YOUR-CONTACT-CENTER/static/chat/embed.js"></script>
// Optional attributes on that script tag: data-label="Chat with us", data-color="#0f766e".
const script = document.querySelector('script[src*="/static/chat/embed.js"]');
const origin = new URL(import.meta.url).origin;
const label = script?.dataset.label || "Chat with us";
const color = script?.dataset.color || "#0f766e";

const button = document.createElement("button");
button.type = "button";
button.textContent = label;
button.setAttribute("aria-expanded", "false");
button.setAttribute("aria-controls", "cc-chat-frame");
Object.assign(button.style, {
  position: "fixed", right: "20px", bottom: "20px", zIndex: "2147483646", border: "0", cursor: "pointer",
  borderRadius: "999px", padding: "12px 20px", background: color, color: "#fff", font: "600 15px system-ui, sans-serif",
  boxShadow: "0 6px 20px rgba(16,24,40,.25)",
});

const frame = document.createElement("iframe");
frame.id = "cc-chat-frame";
frame.title = label;
frame.hidden = true;
frame.src = "about:blank"; // the chat loads on first open, so a visit without a chat opens no socket
Object.assign(frame.style, {
  position: "fixed", right: "20px", bottom: "80px", zIndex: "2147483647", border: "0", borderRadius: "14px",
  width: "min(400px, calc(100vw - 40px))", height: "min(620px, calc(100vh - 110px))", background: "#fff",
  boxShadow: "0 10px 30px rgba(16,24,40,.25)",
});

button.addEventListener("click", () => {
  const open = frame.hidden;
  if (open && frame.src === "about:blank") frame.src = `${origin}/chat?embed=1`;
  frame.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (open) frame.focus();
});
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && !frame.hidden) {
    frame.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
});

document.body.append(frame, button);
