/* Parley browser client: the negotiation room. The thread is built only from the event
   log (seq 1, 2, 3 ...) streamed by /ws/negotiations/{id}/?after=<last seq>; every event
   is applied once (dedupe by seq), and a reconnect asks for what came after the last one. */
"use strict";

(function (P) {
  const h = P.h;
  const ENDED = {
    accepted: "Offer accepted",
    declined: "This negotiation was declined",
    withdrawn: "The guest withdrew",
    expired: "This negotiation expired",
    unavailable: "The dates were booked meanwhile: this negotiation has ended",
  };

  P.pages.room = async function ({ id }) {
    if (P.needLogin()) return;
    const n = await P.get(`negotiations/${id}/`);
    const me = n.guest === P.me.id ? "guest" : "host";
    const other = me === "guest" ? "host" : "guest";
    const otherId = me === "guest" ? n.host : n.guest;
    const name = (side) => (side === me ? "You" : side === "guest" ? "Guest" : "Host");

    // State derived from the events (n gives what the log cannot: lazy expiry, booking).
    const st = {
      lastSeq: 0,
      status: "open",
      turn: "host",
      lastOffer: null,
      lastGuestOffer: null,
      lastHostOffer: null,
      rounds: { guest: 0, host: 0 },
      booking: null,
      bookingStatus: null,
      expiresAt: n.expires_at,
      otherRead: 0,
      serverStatus: n.status,
    };

    const thread = h("ol", { class: "thread", "aria-label": "Conversation", "aria-live": "polite" });
    const banner = h("div", { class: "banner", role: "status", hidden: true, "data-testid": "banner" });
    const presence = h("span", { class: "presence", "data-testid": "presence", "aria-live": "polite" }, `${name(other)}: checking…`);
    const typing = h("p", { class: "typing muted", "aria-live": "polite", "data-testid": "typing" });
    const turnLine = h("p", { class: "turn", "data-testid": "turn" });
    const actionsBox = h("div", { class: "room-actions" });
    const errorBox = h("p", { class: "error form-error", role: "alert", hidden: true, "data-testid": "room-error" });
    const connLine = h("p", { class: "muted small", "data-testid": "room-conn" }, "Connecting…");

    const amount = h("input", { type: "number", name: "amount", min: "1", step: "0.01", inputmode: "decimal" });
    const offerNote = h("input", { name: "offer_message", maxlength: 2000 });
    const counterBtn = h("button", { type: "submit" }, "Counter");
    const counterForm = h(
      "form",
      { class: "counter", "aria-label": "Counter-offer" },
      P.field(`Your counter-offer, total in ${n.currency}`, "amount", {}, amount),
      P.field("Note (optional)", "offer_message", {}, offerNote),
      counterBtn,
    );
    const acceptBtn = h("button", { type: "button" }, "Accept");
    const declineBtn = h("button", { type: "button", class: "secondary" }, "Decline");
    const withdrawBtn = h("button", { type: "button", class: "danger" }, "Withdraw");

    const chatInput = h("input", { name: "body", maxlength: 2000, autocomplete: "off" });
    const sendBtn = h("button", { type: "submit" }, "Send");
    const chatForm = h("form", { class: "chat", "aria-label": "Send a message" }, P.field("Message", "body", {}, chatInput), sendBtn);

    P.render(
      h(
        "section",
        { class: "room", "data-negotiation": id, "data-side": me },
        h("h1", {}, n.property_title),
        h(
          "p",
          { class: "muted" },
          `${P.niceDate(n.check_in)} → ${P.niceDate(n.check_out)} · ${n.guests} guest${n.guests > 1 ? "s" : ""} · list price `,
          h("strong", {}, P.money(n.list_total, n.currency)),
          " · ",
          presence,
        ),
        connLine,
        banner,
        thread,
        typing,
        turnLine,
        errorBox,
        actionsBox,
        chatForm,
      ),
    );

    // --- applying events --------------------------------------------------------------------

    function bubble(ev, side, ...content) {
      return h(
        "li",
        { class: `item ${side === me ? "mine" : "theirs"}`, "data-seq": ev.seq, "data-event": ev.event },
        ...content,
        h("small", { class: "meta" }, `${name(side)} · ${P.time(ev.at)}`, side === me ? h("span", { class: "receipt", "data-receipt": ev.seq }) : null),
      );
    }

    function apply(ev) {
      if (ev.seq <= st.lastSeq) return; // seen already: replay overlap or duplicate
      st.lastSeq = ev.seq;
      const d = ev.data || {};
      let item = null;
      switch (ev.event) {
        case "negotiation.opened":
          st.turn = "host";
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, `Conversation opened for ${P.niceDate(d.check_in)} → ${P.niceDate(d.check_out)}, list price ${P.money(d.list_total, d.currency || n.currency)}`);
          break;
        case "offer.created": {
          st.turn = d.turn;
          st.rounds[d.side] += 1;
          st.lastOffer = { side: d.side, amount: d.amount, expires: d.expires_at, seq: ev.seq };
          st[d.side === "guest" ? "lastGuestOffer" : "lastHostOffer"] = d.amount;
          st.expiresAt = d.expires_at;
          thread.querySelectorAll(".offer-card.current").forEach((c) => {
            c.classList.remove("current");
            const cd = c.querySelector("[data-expires]");
            if (cd) cd.replaceWith(h("span", { class: "muted" }, "superseded"));
          });
          item = bubble(
            ev,
            d.side,
            h(
              "div",
              { class: "offer-card current", "data-amount": d.amount },
              h("span", { class: "label" }, `${name(d.side)} offered`),
              h("strong", { class: "amount" }, P.money(d.amount, n.currency)),
              d.message ? h("p", {}, d.message) : null,
              P.countdown(d.expires_at),
            ),
          );
          break;
        }
        case "message.created":
          item = bubble(ev, d.side, h("p", { class: "body" }, d.body));
          break;
        case "offer.accepted":
          st.status = "accepted";
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, `${name(d.side === "guest" ? "host" : "guest")} accepted ${P.money(d.amount, n.currency)}`);
          break;
        case "booking.created":
          st.booking = d.booking;
          st.bookingStatus = d.status;
          st.holdExpires = d.hold_expires_at;
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, `Booking created at ${P.money(d.total, n.currency)}`);
          break;
        case "offer.declined": {
          // an offer under the host's floor, declined at once: the negotiation stays open, the guest's turn again
          st.turn = d.turn || "guest";
          thread.querySelectorAll(".offer-card.current").forEach((c) => {
            c.classList.remove("current");
            c.classList.add("declined");
            const cd = c.querySelector("[data-expires]");
            if (cd) cd.replaceWith(h("span", { class: "muted" }, "declined"));
          });
          const words = me === "guest" ? d.detail : `The guest's offer of ${P.money(d.amount, n.currency)} was below your floor and was declined automatically.`;
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, words || "The offer was declined automatically.");
          break;
        }
        case "negotiation.declined":
          st.status = "declined";
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, d.reason === "automatic" ? "The offer was declined automatically." : `${name(d.by)} declined.`);
          break;
        case "negotiation.withdrawn":
        case "negotiation.expired":
        case "negotiation.unavailable":
          st.status = d.status || ev.event.split(".")[1];
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, d.detail || ENDED[st.status]);
          break;
        default:
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, ev.event);
      }
      if (st.status !== "open") {
        thread.querySelectorAll(".offer-card.current [data-expires]").forEach((cd) => cd.replaceWith(h("span", { class: "muted" }, "closed")));
      }
      thread.append(item);
      const mine = outboxBySeq.get(ev.seq);
      if (mine) discard(mine, true); // the real item replaces the pending one
    }

    // An offer, accept, decline or withdraw on its way: no second one until it is answered.
    function actionPending() {
      for (const p of outbox.values()) if (p.frame.type !== "message" && p.state !== "failed") return true;
      return false;
    }

    function render() {
      // Lazy expiry: the server may say "expired" before any event says so.
      let status = st.status;
      if (status === "open" && (st.serverStatus === "expired" || (st.expiresAt && new Date(st.expiresAt) <= new Date()))) {
        status = "expired";
      }
      const open = status === "open";
      const myTurn = open && st.turn === me;
      actionsBox.replaceChildren();
      if (st.lastSeq < n.last_seq) {
        turnLine.textContent = "Loading the conversation…";
        return; // not caught up with the log yet: no buttons from a half-known state
      }
      turnLine.textContent = open ? (myTurn ? "Your turn." : `Waiting for the ${other}.`) : "";
      if (myTurn) {
        const offersLeft = st.rounds[me] < 5;
        if (offersLeft) actionsBox.append(counterForm);
        if (st.lastOffer && st.lastOffer.side === other) actionsBox.append(acceptBtn);
        actionsBox.append(declineBtn);
      }
      if (open && me === "guest") actionsBox.append(withdrawBtn);
      const busy = actionPending();
      [counterBtn, acceptBtn, declineBtn, withdrawBtn].forEach((b) => (b.disabled = busy));
      if (open) {
        amount.placeholder =
          me === "guest"
            ? `At least ${st.lastGuestOffer || "1"}, below ${st.lastHostOffer || n.list_total}`
            : `Above ${st.lastGuestOffer || "0"}, at most ${st.lastHostOffer || n.list_total}`;
      }
      // The banner when it has ended.
      if (open) {
        banner.hidden = true;
      } else {
        banner.hidden = false;
        banner.className = `banner banner-${status}`;
        const parts = [h("strong", {}, ENDED[status] || status)];
        if (status === "accepted" && st.booking) {
          const confirmed = st.bookingStatus === "confirmed";
          parts.push(" · booking ", P.statusBadge(st.bookingStatus || "awaiting_payment"));
          if (!confirmed && me === "guest" && st.bookingStatus !== "expired" && st.bookingStatus !== "cancelled") {
            parts.push(" ", h("a", { class: "button", href: `#/b/${st.booking}` }, "Pay now"));
            if (st.holdExpires) parts.push(" ", P.countdown(st.holdExpires));
          } else {
            parts.push(" ", h("a", { href: `#/b/${st.booking}` }, "View booking"));
          }
        }
        banner.replaceChildren(...parts);
      }
      // Read receipts on my own messages and offers.
      thread.querySelectorAll("[data-receipt]").forEach((el) => {
        el.textContent = Number(el.dataset.receipt) <= st.otherRead ? " · Seen" : "";
      });
    }

    // --- the outbox: actions until their event is in the thread ---------------------------
    //
    // Every action gets a fresh client_id and stays in `outbox` (shown under the thread as
    // "Sending…") until the server acknowledges it and the event with the ack's seq is
    // applied; only then does its pending item give way to the real one. The server treats
    // a repeated client_id as the same action (DESIGN.md section 5), so anything not
    // acknowledged is simply sent again: after a reconnect, after a transient refusal
    // (service_unavailable, rate_limited; backoff 0.5, 1, 2, 4 s, then "Not sent" with
    // Retry), or when no answer came for a while. What the user typed is cleared only on
    // the ack, and only if it is still what was sent.

    const TRANSIENT = new Set(["service_unavailable", "rate_limited"]);
    const AUTO_TRIES = 4;
    const NO_ANSWER_MS = 10000;
    const outbox = new Map(); // client_id -> entry, in the order the user acted
    const outboxBySeq = new Map(); // acknowledged seq -> entry, until its event is applied
    const outboxList = h("ol", { class: "thread outbox", "aria-label": "Not yet in the conversation", "aria-live": "polite", "data-testid": "outbox" });
    let idCounter = 0;
    let pumpTimer = null;

    function newClientId() {
      if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
      const bytes = crypto.getRandomValues(new Uint8Array(12)); // randomUUID needs a secure context
      return `c${++idCounter}-${Date.now().toString(36)}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    }

    const VERB = { accept: "Accept the offer", decline: "Decline", withdraw: "Withdraw" };

    function pendingItem(p) {
      const f = p.frame;
      let content;
      if (f.type === "message") content = h("p", { class: "body" }, f.body);
      else if (f.type === "offer")
        content = h(
          "div",
          { class: "offer-card" },
          h("span", { class: "label" }, "Your offer"),
          h("strong", { class: "amount" }, P.money(f.amount, n.currency)),
          f.message ? h("p", {}, f.message) : null,
        );
      else content = h("p", { class: "body" }, VERB[f.type] || f.type);
      p.status = h("span", { class: "send-state", "data-testid": "send-state" });
      p.buttons = h("span", { class: "pending-actions" });
      p.el = h("li", { class: "item mine pending", "data-client-id": p.cid, "data-kind": f.type }, content, h("small", { class: "meta" }, "You · ", p.status), p.buttons);
      return p.el;
    }

    function showPending(p) {
      const failed = p.state === "failed";
      p.el.dataset.state = p.state;
      p.el.classList.toggle("failed", failed);
      p.status.textContent =
        p.state === "acked"
          ? "Sent"
          : failed
            ? `Not sent: ${p.reason}`
            : p.state === "wait"
              ? "Sending… (trying again)"
              : "Sending…";
      const buttons = [];
      if (failed) {
        // Named with what they act on: a screen reader lists several "Retry" buttons.
        const what = p.frame.type === "message" ? `message “${p.frame.body.slice(0, 40)}”` : p.frame.type === "offer" ? `offer of ${P.money(p.frame.amount, n.currency)}` : p.frame.type;
        buttons.push(h("button", { type: "button", class: "secondary small", onclick: () => retry(p), "aria-label": `Retry the ${what}` }, "Retry"));
        if (p.frame.type === "message") buttons.push(h("button", { type: "button", class: "secondary small", onclick: () => editAgain(p), "aria-label": `Edit the ${what}` }, "Edit"));
        buttons.push(h("button", { type: "button", class: "secondary small", onclick: () => discard(p), "aria-label": `Discard the unsent ${what}` }, "Discard"));
      }
      p.buttons.replaceChildren(...buttons);
    }

    function enqueue(frame, input) {
      errorBox.hidden = true;
      errorBox.textContent = "";
      amount.removeAttribute("aria-invalid");
      chatInput.removeAttribute("aria-invalid");
      // A new action of the same kind replaces ones that were refused for good.
      const chat = frame.type === "message";
      for (const old of [...outbox.values()]) {
        if (old.state === "failed" && !old.transient && (old.frame.type === "message") === chat) discard(old, true);
      }
      const cid = newClientId();
      const p = { cid, frame: Object.assign({ client_id: cid }, frame), input, state: "queued", tries: 0, timer: null };
      outbox.set(cid, p);
      outboxList.append(pendingItem(p));
      showPending(p);
      pump();
      render();
      return p;
    }

    // Send what is queued, in order; an item waiting for its backoff holds back those after it.
    function pump() {
      clearTimeout(pumpTimer);
      pumpTimer = null;
      if (!socket.open) return; // everything goes when the socket (re)opens
      for (const p of outbox.values()) {
        if (p.state === "wait") return;
        if (p.state !== "queued") continue;
        if (!socket.send(p.frame)) {
          pumpTimer = setTimeout(pump, 250); // our own frame budget: a moment later
          return;
        }
        p.state = "inflight";
        showPending(p);
        clearTimeout(p.timer);
        p.timer = setTimeout(() => {
          if (p.state === "inflight") {
            p.state = "queued"; // no answer: the connection may be dead; resending is safe
            pump();
          }
        }, NO_ANSWER_MS);
      }
    }

    function backoff(p, reason) {
      clearTimeout(p.timer);
      p.tries += 1;
      if (p.tries > AUTO_TRIES) {
        p.state = "failed";
        p.transient = true;
        p.reason = reason;
      } else {
        p.state = "wait";
        p.timer = setTimeout(() => {
          if (p.state !== "wait") return;
          p.state = "queued";
          showPending(p);
          pump();
        }, 500 * 2 ** (p.tries - 1));
      }
      showPending(p);
      render();
    }

    function retry(p) {
      clearTimeout(p.timer);
      p.state = "queued";
      p.tries = 0;
      p.transient = false;
      errorBox.hidden = true;
      if (p.input) p.input.removeAttribute("aria-invalid");
      showPending(p);
      pump();
      render();
    }

    function discard(p, quiet) {
      clearTimeout(p.timer);
      outbox.delete(p.cid);
      if (p.seq) outboxBySeq.delete(p.seq);
      p.el.remove();
      if (!quiet) render();
    }

    function editAgain(p) {
      chatInput.value = p.frame.body;
      discard(p);
      chatInput.focus();
    }

    function acknowledged(frame) {
      const p = outbox.get(frame.client_id);
      if (!p) return; // a repeated ack of something already shown
      clearTimeout(p.timer);
      // Clear what the user typed only if it is still what was sent.
      const f = p.frame;
      if (f.type === "message" && chatInput.value.trim() === f.body) chatInput.value = "";
      if (f.type === "offer" && amount.value && Number(amount.value).toFixed(2) === f.amount && offerNote.value.trim() === (f.message || "")) {
        amount.value = "";
        offerNote.value = "";
      }
      if (frame.seq <= st.lastSeq) {
        discard(p); // its event is in the thread already (e.g. the first ack of a resend)
        return;
      }
      p.state = "acked";
      p.seq = frame.seq;
      outboxBySeq.set(frame.seq, p);
      showPending(p);
      render();
    }

    function refused(frame) {
      const words = P.words(frame);
      const p = frame.client_id ? outbox.get(frame.client_id) : null;
      if (!p) {
        if (frame.code === "rate_limited") {
          // Refused before it was read, so it names no client_id: whatever is still
          // unanswered may be it; resending is safe.
          outbox.forEach((q) => q.state === "inflight" && backoff(q, words));
          return;
        }
        errorBox.textContent = words;
        errorBox.hidden = false;
        return;
      }
      if (TRANSIENT.has(frame.code)) return backoff(p, words);
      clearTimeout(p.timer);
      p.state = "failed";
      p.transient = false;
      p.reason = words;
      errorBox.textContent = words;
      errorBox.hidden = false;
      if (p.input) p.input.setAttribute("aria-invalid", "true");
      showPending(p);
      render();
    }

    // The socket opened again: whatever was sent on the old one and not answered goes again,
    // with the same client_id (as do those that ran out of automatic tries).
    function resendAll() {
      outbox.forEach((p) => {
        if (p.state === "inflight" || p.state === "wait" || (p.state === "failed" && p.transient)) {
          clearTimeout(p.timer);
          if (p.state === "failed") p.tries = 0;
          p.state = "queued";
          p.transient = false;
          showPending(p);
        }
      });
      pump();
      render();
    }

    thread.after(outboxList);

    // --- the socket ---------------------------------------------------------------------

    // Read frames: one after the replay, then at most one a second, only the highest seq,
    // only while the page is visible, and never below what the server says we have read.
    let typingTimer = null;
    let sentRead = 0;
    let myRead = 0;
    let readTimer = null;
    let lastReadAt = 0;

    function scheduleRead() {
      if (readTimer) return;
      readTimer = setTimeout(flushRead, Math.max(300, 1000 - (Date.now() - lastReadAt)));
    }

    function flushRead() {
      readTimer = null;
      if (document.visibilityState !== "visible") return; // visibilitychange brings it back
      if (st.lastSeq < n.last_seq) return; // still replaying: the last replayed event asks again
      const seq = st.lastSeq;
      if (seq <= Math.max(sentRead, myRead)) return;
      if (socket.send({ type: "read", seq })) {
        sentRead = seq;
        lastReadAt = Date.now();
      } else if (socket.open) {
        scheduleRead(); // over our own frame budget: a moment later
      } // closed: the reopened socket asks again
    }

    // Presence is per person: "joined" and "here" mean online, only "left" means away. After
    // our own (re)connect, the other side answers "here" if present; silence means away.
    let heardPresence = false;
    let presenceTimer = null;
    function setPresence(online) {
      heardPresence = true;
      clearTimeout(presenceTimer);
      presence.textContent = online ? `${name(other)} is online` : `${name(other)} is away`;
      presence.classList.toggle("online", online);
      presence.classList.remove("stale");
      presence.dataset.state = online ? "online" : "away";
    }
    // The other side's "here" follows our "joined", which the server sends after the
    // replay: 3 s of silence after the replay means nobody is there.
    function armPresence() {
      clearTimeout(presenceTimer);
      presenceTimer = setTimeout(() => heardPresence || setPresence(false), 3000);
    }
    // Our own connection is down: what we last knew, said as such (not "away").
    function presenceStale() {
      clearTimeout(presenceTimer);
      if (presence.dataset.state !== "online") return;
      presence.textContent = `${name(other)} was online`;
      presence.classList.add("stale");
      presence.dataset.state = "stale";
    }

    const socket = new P.LiveSocket(`/ws/negotiations/${id}/`, {
      query: () => ({ after: st.lastSeq }),
      onframe(frame) {
        switch (frame.type) {
          case "event":
            if (!heardPresence) armPresence();
            apply(frame);
            render();
            if (connLine.dataset.state === "loading" && st.lastSeq >= n.last_seq) {
              connLine.textContent = "Live";
              connLine.dataset.state = "open";
            }
            scheduleRead();
            if (frame.event === "booking.created") refreshBooking();
            break;
          case "ack":
            acknowledged(frame);
            break;
          case "error":
            refused(frame);
            break;
          case "typing":
            if (frame.user === otherId) {
              setPresence(true);
              typing.textContent = `${name(other)} is typing…`;
              clearTimeout(typingTimer);
              typingTimer = setTimeout(() => (typing.textContent = ""), 3000);
            }
            break;
          case "read":
            // Live, or the stored positions replayed after the events on every connect.
            if (frame.user === otherId) {
              if (frame.seq > st.otherRead) {
                st.otherRead = frame.seq;
                render();
              }
            } else if (frame.user === P.me.id) {
              myRead = Math.max(myRead, frame.seq); // read already (this or another tab)
            }
            break;
          case "presence":
            if (frame.user === otherId) setPresence(frame.state !== "left");
            break;
        }
      },
      onstate(state) {
        // "Live" once the first replay has caught up with the log the page loaded with.
        if (state === "open" && st.lastSeq < n.last_seq) state = "loading";
        connLine.textContent = { open: "Live", loading: "Loading the conversation…", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline: will catch up when back online", denied: "You cannot join this conversation.", missing: "This negotiation does not exist." }[state] || state;
        connLine.dataset.state = state;
        if (state === "open" || state === "loading") {
          resendAll();
          scheduleRead();
          heardPresence = false;
          armPresence();
        } else {
          presenceStale();
        }
      },
    });
    P.onLeave(() => {
      socket.stop();
      clearTimeout(readTimer);
      clearTimeout(presenceTimer);
      clearTimeout(pumpTimer);
      outbox.forEach((p) => clearTimeout(p.timer));
    });
    P.room = { socket, state: st, outbox }; // for debugging in the console (and the tests)

    counterForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (actionPending()) return;
      if (!amount.value) {
        errorBox.textContent = "Enter an amount.";
        errorBox.hidden = false;
        amount.setAttribute("aria-invalid", "true");
        return;
      }
      enqueue({ type: "offer", amount: Number(amount.value).toFixed(2), message: offerNote.value.trim() }, amount);
    });
    acceptBtn.addEventListener("click", () => actionPending() || enqueue({ type: "accept" }));
    declineBtn.addEventListener("click", () => actionPending() || enqueue({ type: "decline" }));
    withdrawBtn.addEventListener("click", () => actionPending() || enqueue({ type: "withdraw" }));
    chatForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = chatInput.value.trim();
      if (!body) return;
      // Send pressed again on the same text: it is on its way already (or, refused, retried).
      for (const p of outbox.values()) {
        if (p.frame.type === "message" && p.frame.body === body && p.state !== "acked") {
          if (p.state === "failed") retry(p);
          return;
        }
      }
      enqueue({ type: "message", body }, chatInput);
    });
    let lastTyping = 0;
    chatInput.addEventListener("input", () => {
      if (Date.now() - lastTyping > 2000) {
        lastTyping = Date.now();
        socket.send({ type: "typing" });
      }
    });
    const onVisible = () => scheduleRead();
    document.addEventListener("visibilitychange", onVisible);
    P.onLeave(() => document.removeEventListener("visibilitychange", onVisible));
    // Closing or reloading the tab with something unsent: the browser asks first.
    const onUnload = (event) => {
      for (const p of outbox.values()) {
        if (p.state !== "acked") {
          event.preventDefault();
          event.returnValue = "";
          return;
        }
      }
    };
    window.addEventListener("beforeunload", onUnload);
    P.onLeave(() => window.removeEventListener("beforeunload", onUnload));
    thread.addEventListener("expired", () => render());

    // The booking's own status (paid, expired) arrives on the notifications socket.
    async function refreshBooking() {
      if (!st.booking) return;
      try {
        const b = await P.get(`bookings/${st.booking}/`);
        st.bookingStatus = b.status;
        st.holdExpires = b.hold_expires_at;
        render();
      } catch (e) {
        /* keep what we have */
      }
    }
    P.onLive((frame) => {
      if (frame.booking && st.booking && frame.booking.id === st.booking) {
        st.bookingStatus = frame.booking.status;
        render();
      }
    });
    if (n.booking) {
      st.booking = n.booking;
      refreshBooking();
    }
    render();
  };
})(window.P);
