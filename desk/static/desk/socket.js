// The live connection to /ws/: a fresh ticket for each connection, the streams wanted kept
// across reconnects, a heartbeat, reconnection with backoff and jitter, and `resume` from the
// last event id seen so that nothing is missed while away.

import { api } from "./api.js";

const HEARTBEAT_MS = 20000;
const ACK_TIMEOUT_MS = 10000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 10000;
const REPLY_TIMEOUT_MS = 5000;

export class LiveSocket {
  // handlers: onStatus(status, detail), onEvent(frame, {missed}), onSubscribed(frame),
  // onResumed(missedFrames), onResumeFailed(), onSignedOut(), onError(frame)
  constructor(handlers) {
    this.handlers = handlers;
    this.streams = new Set();
    this.pending = new Map();
    this.lastEventId = 0;
    this.attempt = 0;
    this.everOpen = false;
    this.stopped = true;
    this.ws = null;
    this.resuming = null;
    this.timers = {};
    window.addEventListener("online", () => this.retryNow());
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.clearTimers();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
    this.streams.clear();
    this.everOpen = false;
    this.lastEventId = 0;
    this.status("idle");
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.welcomed;
  }

  // --- streams --------------------------------------------------------------------------

  subscribe(stream) {
    this.streams.add(stream);
    return this.open ? this.request({ type: "subscribe", stream }) : Promise.resolve(null);
  }

  unsubscribe(stream) {
    if (!this.streams.delete(stream) || !this.open) return Promise.resolve(null);
    return this.request({ type: "unsubscribe", stream });
  }

  // Send a subscribe/unsubscribe and wait (bounded) for the reply naming its stream.
  request(frame) {
    return new Promise((resolve) => {
      const waiting = this.pending.get(frame.stream) || [];
      const done = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(done), 1);
        if (!waiting.length && this.pending.get(frame.stream) === waiting) {
          this.pending.delete(frame.stream);
        }
        resolve(null);
      }, REPLY_TIMEOUT_MS);
      waiting.push(done);
      this.pending.set(frame.stream, waiting);
      this.send(frame);
    });
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  // --- connecting -----------------------------------------------------------------------

  async connect() {
    this.clearTimers();
    this.welcomed = false;
    this.status(this.everOpen ? "reconnecting" : "connecting");
    let ticket;
    try {
      ticket = (await api.post("realtime/ticket/")).ticket;
    } catch (error) {
      if (error.status === 401 || error.status === 403) {
        this.stopped = true;
        this.handlers.onSignedOut();
        return;
      }
      this.retryLater();
      return;
    }
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/?ticket=${encodeURIComponent(ticket)}`);
    this.ws = ws;
    ws.onmessage = (message) => this.receive(ws, message.data);
    ws.onclose = () => this.closed(ws);
  }

  closed(ws) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.welcomed = false;
    this.resuming = null;
    this.clearTimers();
    for (const waiting of this.pending.values()) waiting.forEach((done) => done(null));
    this.pending.clear();
    if (!this.stopped) this.retryLater();
  }

  retryLater() {
    this.attempt += 1;
    // Equal jitter: half the capped exponential delay, plus up to as much again at random,
    // so that clients cut off together do not all come back at the same instant.
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.attempt - 1));
    const delay = cap / 2 + Math.random() * (cap / 2);
    this.status(this.everOpen ? "reconnecting" : "connecting", {
      attempt: this.attempt,
      retryAt: Date.now() + delay,
    });
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  retryNow() {
    if (this.stopped || this.ws || !this.timers.retry) return;
    this.connect();
  }

  // A socket that stops answering heartbeats is dropped at once: its close handshake could
  // take minutes on a dead network.
  heartbeat(ws) {
    this.timers.heartbeat = setInterval(() => {
      this.send({ type: "heartbeat" });
      clearTimeout(this.timers.ack);
      this.timers.ack = setTimeout(() => {
        ws.onclose = null;
        ws.close(4000, "no heartbeat_ack");
        this.closed(ws);
      }, ACK_TIMEOUT_MS);
    }, HEARTBEAT_MS);
  }

  clearTimers() {
    clearTimeout(this.timers.retry);
    clearInterval(this.timers.heartbeat);
    clearTimeout(this.timers.ack);
    this.timers = {};
  }

  status(name, detail = {}) {
    this.handlers.onStatus(name, detail);
  }

  // --- frames from the server --------------------------------------------------------------

  receive(ws, text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    switch (frame.type) {
      case "welcome":
        this.welcome(ws, frame);
        break;
      case "event":
        this.event(frame);
        break;
      case "subscribed":
        this.handlers.onSubscribed(frame);
        this.reply(frame);
        break;
      case "unsubscribed":
        this.reply(frame);
        break;
      case "error":
        this.reply(frame);
        this.handlers.onError(frame);
        break;
      case "resumed":
        this.resumed();
        break;
      case "resume_failed":
        // Past retention: the state is read again, from the server's position now.
        this.resuming = null;
        this.lastEventId = Math.max(this.lastEventId, this.serverLastEventId);
        this.status("open");
        this.handlers.onResumeFailed();
        break;
      case "heartbeat_ack":
        clearTimeout(this.timers.ack);
        break;
      default:
        // A frame type this client does not know yet: ignored.
        break;
    }
  }

  // Replies come in the order of the requests: the first waiting for that stream gets it.
  reply(frame) {
    const waiting = frame.stream !== undefined && this.pending.get(frame.stream);
    if (!waiting) return;
    waiting.shift()(frame);
    if (!waiting.length) this.pending.delete(frame.stream);
  }

  async welcome(ws, frame) {
    const back = this.everOpen;
    this.serverLastEventId = frame.last_event_id;
    // What this client has seen, before any event of the new connection arrives.
    const resumeFrom = back ? this.lastEventId : frame.last_event_id;
    this.lastEventId = Math.max(this.lastEventId, resumeFrom);
    this.everOpen = true;
    this.welcomed = true;
    this.attempt = 0;
    this.heartbeat(ws);
    if (back) this.resuming = [];
    await Promise.all([...this.streams].map((stream) => this.request({ type: "subscribe", stream })));
    if (ws !== this.ws) return;
    if (back) {
      this.status("resuming");
      this.send({ type: "resume", last_event_id: resumeFrom });
    } else {
      this.status("open");
    }
  }

  event(frame) {
    if (typeof frame.id === "number") this.lastEventId = Math.max(this.lastEventId, frame.id);
    if (this.resuming) this.resuming.push(frame);
    this.handlers.onEvent(frame);
  }

  resumed() {
    const missed = this.resuming || [];
    this.resuming = null;
    this.status("open");
    this.handlers.onResumed(missed);
  }
}
