/* Parley browser client: the negotiation room. The thread is built only from the event
   log (seq 1, 2, 3 ...) streamed by /ws/negotiations/{id}/?after=<last seq>; every event
   is applied once (dedupe by seq), and a reconnect asks for what came after the last one.
   This page holds the socket, presence, typing, read receipts and the forms; what the
   room shows is drawn by room_thread.js, and actions wait in room_outbox.js. */
"use strict";

(function (P) {
  const h = P.h;

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

    // What the room shows (thread, turn, buttons, banner), and the actions on their way.
    const { apply, render } = P.roomThread({
      n,
      me,
      other,
      name,
      st,
      view: { thread, banner, turnLine, actionsBox, counterForm, counterBtn, acceptBtn, declineBtn, withdrawBtn, amount },
      outbox: () => outbox,
    });
    const outbox = P.roomOutbox({
      currency: n.currency,
      st,
      errorBox,
      amount,
      offerNote,
      chatInput,
      socket: () => socket,
      render: () => render(),
    });
    thread.after(outbox.list);

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
            outbox.acknowledged(frame);
            break;
          case "error":
            outbox.refused(frame);
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
          outbox.resendAll();
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
      outbox.stop();
    });
    P.room = { socket, state: st, outbox: outbox.entries }; // for debugging in the console (and the tests)

    counterForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (outbox.actionPending()) return;
      if (!amount.value) {
        errorBox.textContent = "Enter an amount.";
        errorBox.hidden = false;
        amount.setAttribute("aria-invalid", "true");
        return;
      }
      outbox.enqueue({ type: "offer", amount: Number(amount.value).toFixed(2), message: offerNote.value.trim() }, amount);
    });
    acceptBtn.addEventListener("click", () => outbox.actionPending() || outbox.enqueue({ type: "accept" }));
    declineBtn.addEventListener("click", () => outbox.actionPending() || outbox.enqueue({ type: "decline" }));
    withdrawBtn.addEventListener("click", () => outbox.actionPending() || outbox.enqueue({ type: "withdraw" }));
    chatForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = chatInput.value.trim();
      if (!body) return;
      // Send pressed again on the same text: it is on its way already (or, refused, retried).
      for (const p of outbox.entries.values()) {
        if (p.frame.type === "message" && p.frame.body === body && p.state !== "acked") {
          if (p.state === "failed") outbox.retry(p);
          return;
        }
      }
      outbox.enqueue({ type: "message", body }, chatInput);
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
      for (const p of outbox.entries.values()) {
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
