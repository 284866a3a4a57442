// The console's WebSocket (/ws/live-chat/, docs/protocol.md): reconnects with exponential backoff and
// jitter, heartbeats, and reports its state for the badge:
//   connecting   — first attempts, never been live yet
//   live         — authenticated (auth_success received)
//   reconnecting — was live, trying to get back
//   offline      — the socket cannot connect at all (3 failed attempts in a row, or the browser
//                  is offline): the app falls back to REST polling meanwhile.
//
// Events: "state" {state}, "live" {reconnect: bool}, "frame" {frame}, "unauthenticated".

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const PONG_TIMEOUT_MS = 10000;
const FAILURES_BEFORE_OFFLINE = 3;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_RESYNC = 4503;

export class Connection extends EventTarget {
  constructor(path, { heartbeatSeconds = 25 } = {}) {
    super();
    this.path = path;
    this.heartbeatMs = heartbeatSeconds * 1000;
    this.state = "connecting";
    this.ws = null;
    this.attempt = 0;
    this.failures = 0;
    this.everLive = false;
    this.generation = 0; // bumps on every (re)connect; outbox sends are "once per generation"
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.pongTimer = null;
    this.stopped = false;
  }

  start() {
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => {
      this.drop();
      this.setState("offline");
    });
    this.connect();
  }

  get live() {
    return this.state === "live" && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a frame; false if the socket is not live (the caller falls back or queues). */
  send(type, payload = {}, requestId = undefined) {
    if (!this.live) return false;
    const frame = { type, payload };
    if (requestId) frame.request_id = requestId;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Try again at once (the network came back, or a REST call just succeeded). */
  reconnectNow() {
    if (this.stopped || this.live || (this.ws && this.ws.readyState === WebSocket.CONNECTING)) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    if (this.ws) this.ws.close();
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}${this.path}`);
    } catch {
      this.failures += 1;
      this.scheduleReconnect(false);
      return;
    }
    this.ws = ws;
    // A socket that closes before the server said auth_success counts as a failed attempt,
    // whether the connection was refused or opened and dropped (a proxy, a blocked upgrade).
    let authenticated = false;
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "auth_success") {
        authenticated = true;
        this.attempt = 0;
        this.failures = 0;
        this.generation += 1;
        this.setState("live");
        this.startHeartbeat();
        this.dispatchEvent(new CustomEvent("live", { detail: { reconnect: this.everLive } }));
        this.everLive = true;
      } else if (frame.type === "pong") {
        clearTimeout(this.pongTimer);
      }
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      if (event.code === CLOSE_UNAUTHENTICATED) {
        this.stopped = true;
        this.setState("offline");
        this.dispatchEvent(new CustomEvent("unauthenticated"));
        return;
      }
      if (!authenticated) this.failures += 1;
      this.scheduleReconnect(event.code === CLOSE_RESYNC);
    });
  }

  /** Abandon the current socket without waiting for its closing handshake, and start over. */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.stopHeartbeat();
    try {
      ws.close();
    } catch {
      // already closed
    }
    this.scheduleReconnect(false);
  }

  scheduleReconnect(immediately) {
    clearTimeout(this.retryTimer);
    // Exponential backoff with jitter: 0.5 s, 1 s, 2 s … up to 15 s, each ×0.5–1.0 at random,
    // so a restarted server is not hit by every console at the same instant.
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    const delay = immediately ? 50 : ceiling * (0.5 + Math.random() * 0.5);
    this.attempt += 1;
    if (this.failures >= FAILURES_BEFORE_OFFLINE || navigator.onLine === false) this.setState("offline");
    else this.setState(this.everLive ? "reconnecting" : "connecting");
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (!this.send("ping")) return;
      clearTimeout(this.pongTimer);
      // No pong: the connection is dead even if the browser has not noticed. Start over.
      this.pongTimer = setTimeout(() => this.drop(), PONG_TIMEOUT_MS);
    }, this.heartbeatMs);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pongTimer);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}
