/* Parley browser client: WebSockets that reconnect by themselves, and the notifications bell. */
"use strict";

(function (P) {
  const h = P.h;
  const sockets = new Set();
  const BURST = 15; // frames a socket may send at once ...
  const PER_SECOND = 8; // ... and then per second

  // A socket to `path` that reconnects with backoff. `query()` gives the query string of
  // each new connection (e.g. after=<last seq>). Auth: a one-time ticket per connection
  // (fetched through the API, which refreshes the 5-minute access cookie when needed).
  class LiveSocket {
    constructor(path, { query, onframe, onstate }) {
      this.path = path;
      this.query = query || (() => ({}));
      this.onframe = onframe;
      this.onstate = onstate || (() => {});
      this.ws = null;
      this.stopped = false;
      this.attempt = 0;
      this.timer = null;
      this.tokens = BURST;
      this.stamp = Date.now();
      sockets.add(this);
      this.connect();
    }

    get open() {
      return this.ws && this.ws.readyState === WebSocket.OPEN;
    }

    async connect() {
      if (this.stopped || this.ws) return;
      if (!navigator.onLine) return this.onstate("offline");
      this.onstate("connecting");
      let ticket;
      try {
        ticket = (await P.post("auth/ws-ticket/")).ticket;
      } catch (e) {
        if (e.status === 401 || e.status === 403) {
          this.onstate("denied");
          this.stopped = true;
          return;
        }
        return this.retry();
      }
      if (this.stopped || this.ws) return;
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const url = `${proto}//${location.host}${this.path}${P.qs(Object.assign({}, this.query(), { ticket }))}`;
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.onopen = () => {
        this.attempt = 0;
        this.onstate("open");
      };
      ws.onmessage = (message) => {
        let frame;
        try {
          frame = JSON.parse(message.data);
        } catch (e) {
          return;
        }
        this.onframe(frame);
      };
      ws.onclose = (event) => {
        if (this.ws !== ws) return;
        this.ws = null;
        if ([4401, 4403, 4404].includes(event.code)) {
          this.onstate(event.code === 4404 ? "missing" : "denied");
          if (event.code !== 4401) return;
        }
        this.retry();
      };
    }

    retry() {
      if (this.stopped) return;
      this.onstate(navigator.onLine ? "reconnecting" : "offline");
      if (!navigator.onLine) return; // the "online" event reconnects
      const delay = Math.min(5000, 300 * 2 ** this.attempt++);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.connect(), delay);
    }

    // Drop the connection now (network gone); connect() brings it back.
    drop() {
      const ws = this.ws;
      this.ws = null;
      if (ws) ws.close();
    }

    // Send one frame now; false when closed or over our own budget (a burst of 15, then 8
    // a second: under the server's 20 and 10/s), so the caller keeps it and tries later.
    send(frame) {
      if (!this.open) return false;
      const now = Date.now();
      this.tokens = Math.min(BURST, this.tokens + ((now - this.stamp) / 1000) * PER_SECOND);
      this.stamp = now;
      if (this.tokens < 1) return false;
      this.tokens -= 1;
      this.ws.send(JSON.stringify(frame));
      return true;
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
      sockets.delete(this);
      this.drop();
    }
  }

  P.LiveSocket = LiveSocket;

  // Going offline: the sockets are dead anyway; close them and say so. Back online:
  // reconnect at once (each socket asks to replay from where it stopped).
  window.addEventListener("offline", () => {
    P.connState("offline");
    sockets.forEach((s) => {
      s.drop();
      s.onstate("offline");
    });
  });
  window.addEventListener("online", () => {
    P.connState("");
    sockets.forEach((s) => {
      s.attempt = 0;
      s.connect();
    });
  });

  P.connState = function (state) {
    const el = document.getElementById("conn");
    const text = {
      offline: "You are offline. We will catch up when the connection is back.",
      reconnecting: "Connection lost. Reconnecting…",
    }[state];
    el.textContent = text || "";
    el.hidden = !text;
  };

  // --- notifications: the bell and a page-wide bus --------------------------------------

  const bell = { socket: null, lastId: 0, items: new Map(), unread: null };

  const KIND_WORDS = {
    "booking.requested": "New booking request",
    "booking.pending_host": "New booking request",
    "booking.confirmed": "Booking confirmed",
    "booking.approved": "Booking approved",
    "booking.declined": "Booking declined",
    "booking.cancelled": "Booking cancelled",
    "booking.expired": "Booking expired",
    "booking.awaiting_payment": "Booking awaiting payment",
    "negotiation.opened": "New offer conversation",
    "negotiation.offer.created": "New offer",
    "negotiation.offer.accepted": "Offer accepted",
    "negotiation.declined": "Negotiation declined",
    "negotiation.withdrawn": "Negotiation withdrawn",
    "negotiation.expired": "Negotiation expired",
    "negotiation.unavailable": "Dates no longer available",
    "negotiation.message.created": "New message",
    "review.published": "New review",
    "superhost.gained": "You are a Superhost",
  };

  function describe(n) {
    const title = KIND_WORDS[n.kind] || n.kind.replace(/[._]/g, " ");
    const d = n.data || {};
    const extra = d.amount ? ` · ${P.money(d.amount, d.currency)}` : d.body ? ` · “${d.body.slice(0, 60)}”` : "";
    return title + extra;
  }

  function link(n) {
    const d = n.data || {};
    if (d.negotiation) return `#/n/${d.negotiation}`;
    if (n.kind.startsWith("booking.") && d.id) return `#/b/${d.id}`;
    return "#/trips";
  }

  function renderBell() {
    const list = document.getElementById("bell-list");
    const items = [...bell.items.values()].sort((a, b) => b.id - a.id).slice(0, 30);
    list.replaceChildren(
      ...(items.length
        ? items.map((n) =>
            h(
              "li",
              { class: n.read ? "read" : "unread", "data-notification": n.id },
              h("a", { href: link(n) }, describe(n)),
              h("small", { class: "muted" }, " " + P.time(n.created_at)),
            ),
          )
        : [h("li", { class: "muted" }, "Nothing yet.")]),
    );
    // The server's count (all unread, not only the 30 shown) once known.
    const unread = bell.unread ?? items.filter((n) => !n.read).length;
    const badge = document.getElementById("bell-count");
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
    document.getElementById("bell").setAttribute("aria-label", `Notifications, ${unread} unread`);
  }

  function addNotification(n) {
    if (bell.items.has(n.id)) return false;
    bell.items.set(n.id, n);
    bell.lastId = Math.max(bell.lastId, n.id);
    return true;
  }

  P.startNotifications = async function () {
    P.stopNotifications();
    document.getElementById("bell-wrap").hidden = false;
    try {
      const page = await P.get("notifications/");
      (page.results || []).forEach(addNotification);
      bell.unread = page.unread_count;
    } catch (e) {
      /* the socket fills it */
    }
    renderBell();
    bell.socket = new LiveSocket("/ws/notifications/", {
      query: () => ({ after: bell.lastId }),
      onframe(frame) {
        if (frame.type === "notification") {
          if (addNotification(Object.assign({ read: false, created_at: new Date().toISOString() }, frame))) {
            renderBell();
          }
        }
        if (frame.type === "read") {
          // marked read here or in another tab
          (frame.ids || []).forEach((id) => bell.items.has(id) && (bell.items.get(id).read = true));
          renderBell();
        }
        if (frame.type === "unread") {
          bell.unread = frame.count;
          renderBell();
        }
        if (frame.type !== "pong" && frame.type !== "error") {
          document.dispatchEvent(new CustomEvent("parley:live", { detail: frame }));
        }
      },
      onstate(state) {
        if (state === "open") P.connState("");
        else if (state === "reconnecting" || state === "offline") P.connState(state);
      },
    });
  };

  P.stopNotifications = function () {
    if (bell.socket) bell.socket.stop();
    bell.socket = null;
    bell.items.clear();
    bell.lastId = 0;
    bell.unread = null;
    document.getElementById("bell-wrap").hidden = true;
  };

  P.onLive = function (handler) {
    const listener = (event) => handler(event.detail);
    document.addEventListener("parley:live", listener);
    P.onLeave(() => document.removeEventListener("parley:live", listener));
  };

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("bell");
    const panel = document.getElementById("bell-panel");
    button.addEventListener("click", () => {
      panel.hidden = !panel.hidden;
      button.setAttribute("aria-expanded", String(!panel.hidden));
    });
    panel.addEventListener("click", (event) => {
      if (event.target.closest("a")) {
        panel.hidden = true;
        button.setAttribute("aria-expanded", "false");
      }
    });
    document.getElementById("bell-read").addEventListener("click", async () => {
      try {
        await P.post("notifications/read/", { all: true });
        bell.items.forEach((n) => (n.read = true));
        renderBell();
      } catch (e) {
        P.toast(e.message);
      }
    });
  });
})(window.P);
