// A websocket that reconnects by itself with exponential backoff and jitter.
// Callers get JSON in and out; `send` returns false while the socket is down so they can queue.

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class ReconnectingSocket {
  /**
   * @param {string} url
   * @param {{onopen?: Function, onmessage?: Function, onstate?: Function, baseDelay?: number, maxDelay?: number}} opts
   */
  constructor(url, opts = {}) {
    this.url = url;
    this.opts = { baseDelay: 500, maxDelay: 15000, ...opts };
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this._onOnline = () => { if (!this.stopped && !this.isOpen()) this._reconnectNow(); };
  }

  start() {
    this.stopped = false;
    window.addEventListener("online", this._onOnline);
    this._connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this._onOnline);
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  send(obj) {
    if (!this.isOpen()) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  /** Call once the server has accepted the session, so the next outage starts again from a short delay. */
  resetBackoff() {
    this.attempt = 0;
  }

  _state(state, detail) {
    this.opts.onstate?.(state, detail);
  }

  _connect() {
    clearTimeout(this.timer);
    this._state("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this._schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this._state("open");
      this.opts.onopen?.();
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // not ours to interpret; the protocol is JSON only
      }
      this.opts.onmessage?.(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return; // an older socket we already replaced
      this.ws = null;
      if (this.stopped) return;
      this._state("closed", { code: ev.code });
      this._schedule();
    };
  }

  _schedule() {
    if (this.stopped) return;
    const exp = Math.min(this.opts.maxDelay, this.opts.baseDelay * 2 ** this.attempt);
    const delay = Math.round(exp * (0.5 + Math.random() / 2)); // jitter: a restarted server is not stampeded
    this.attempt += 1;
    this._state("waiting", { delay });
    this.timer = setTimeout(() => this._connect(), delay);
  }

  _reconnectNow() {
    this.attempt = 0;
    this._connect();
  }
}

/** A random id for client-side message identity; works without a secure context too. */
export function randomId() {
  if (crypto.randomUUID && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
