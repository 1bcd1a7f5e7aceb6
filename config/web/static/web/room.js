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
    const presence = h("span", { class: "presence", "data-testid": "presence" }, `${name(other)} is away`);
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
        case "negotiation.declined":
          st.status = "declined";
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, d.reason === "automatic" ? "The offer was declined automatically." : `${name(d.by)} declined.`);
          break;
        case "negotiation.withdrawn":
        case "negotiation.expired":
        case "negotiation.unavailable":
          st.status = d.status || ev.event.split(".")[1];
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, ENDED[st.status]);
          break;
        default:
          item = h("li", { class: "item system", "data-seq": ev.seq, "data-event": ev.event }, ev.event);
      }
      if (st.status !== "open") {
        thread.querySelectorAll(".offer-card.current [data-expires]").forEach((cd) => cd.replaceWith(h("span", { class: "muted" }, "closed")));
      }
      thread.append(item);
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

    // --- the socket ---------------------------------------------------------------------

    let typingTimer = null;
    let sentRead = 0;
    const pending = new Map(); // client_id -> element to show its error beside
    let seqClient = 0;

    function markRead() {
      if (document.visibilityState === "visible" && st.lastSeq > sentRead && socket.send({ type: "read", seq: st.lastSeq })) {
        sentRead = st.lastSeq;
      }
    }

    function setPresence(online) {
      presence.textContent = online ? `${name(other)} is online` : `${name(other)} is away`;
      presence.classList.toggle("online", online);
    }

    const socket = new P.LiveSocket(`/ws/negotiations/${id}/`, {
      query: () => ({ after: st.lastSeq }),
      onframe(frame) {
        switch (frame.type) {
          case "event":
            apply(frame);
            render();
            markRead();
            if (frame.event === "booking.created") refreshBooking();
            break;
          case "ack":
            pending.delete(frame.client_id);
            break;
          case "error":
            showError(frame.client_id, P.words(frame));
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
            if (frame.user === otherId) {
              setPresence(true);
              st.otherRead = Math.max(st.otherRead, frame.seq);
              render();
            }
            break;
          case "presence":
            if (frame.user === otherId) setPresence(frame.state !== "left");
            break;
        }
      },
      onstate(state) {
        connLine.textContent = { open: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline: will catch up when back online", denied: "You cannot join this conversation.", missing: "This negotiation does not exist." }[state] || state;
        connLine.dataset.state = state;
        if (state !== "open") setPresence(false);
      },
    });
    P.onLeave(() => socket.stop());
    P.room = { socket, state: st }; // for debugging in the console

    function showError(clientId, text) {
      errorBox.textContent = text;
      errorBox.hidden = false;
      const input = pending.get(clientId);
      if (input) input.setAttribute("aria-invalid", "true");
      pending.delete(clientId);
    }

    function act(frame, input) {
      errorBox.hidden = true;
      errorBox.textContent = "";
      amount.removeAttribute("aria-invalid");
      const clientId = `c${++seqClient}`;
      pending.set(clientId, input || null);
      if (!socket.send(Object.assign({ client_id: clientId }, frame))) {
        showError(clientId, "You are not connected right now; try again in a moment.");
        return false;
      }
      return true;
    }

    counterForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!amount.value) return showError(null, "Enter an amount.");
      if (act({ type: "offer", amount: Number(amount.value).toFixed(2), message: offerNote.value.trim() }, amount)) {
        amount.value = "";
        offerNote.value = "";
      }
    });
    acceptBtn.addEventListener("click", () => act({ type: "accept" }));
    declineBtn.addEventListener("click", () => act({ type: "decline" }));
    withdrawBtn.addEventListener("click", () => act({ type: "withdraw" }));
    chatForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = chatInput.value.trim();
      if (body && act({ type: "message", body }, chatInput)) chatInput.value = "";
    });
    let lastTyping = 0;
    chatInput.addEventListener("input", () => {
      if (Date.now() - lastTyping > 2000) {
        lastTyping = Date.now();
        socket.send({ type: "typing" });
      }
    });
    const onVisible = () => markRead();
    document.addEventListener("visibilitychange", onVisible);
    P.onLeave(() => document.removeEventListener("visibilitychange", onVisible));
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
