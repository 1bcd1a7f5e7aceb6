/* Parley browser client: what the negotiation room shows. The thread is built only from the
   event log, each event applied once (dedupe by seq); the turn, the buttons, the banner
   when it has ended and the read receipts are drawn from the state the events left. */
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

  // `st`: the room's state, changed by apply(); `view`: the room's elements; `outbox()`: the
  // room's outbox (an applied event replaces its pending item; no buttons while one waits).
  P.roomThread = function ({ n, me, other, name, st, view, outbox }) {
    const { thread, banner, turnLine, actionsBox, counterForm, counterBtn, acceptBtn, declineBtn, withdrawBtn, amount } = view;

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
      const mine = outbox().bySeq.get(ev.seq);
      if (mine) outbox().discard(mine, true); // the real item replaces the pending one
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
      const busy = outbox().actionPending();
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

    return { apply, render };
  };
})(window.P);
