/* Parley browser client: one booking (pay, approve, decline, cancel), a guest's trips and a host's
   reservations. */
"use strict";

(function (P) {
  const h = P.h;
  P.pages = P.pages || {};
  const pages = P.pages;

  pages.booking = async function ({ id }) {
    if (P.needLogin()) return;
    const box = h("section", { class: "card narrow", "data-booking": id });
    P.render(box);
    async function load() {
      const b = await P.get(`bookings/${id}/`);
      const isGuest = b.guest === P.me.id;
      const parts = [
        h("h1", {}, b.property_title),
        h("p", {}, P.statusBadge(b.status)),
        h("p", {}, `${P.niceDate(b.check_in)} → ${P.niceDate(b.check_out)} · ${b.guests} guest${b.guests > 1 ? "s" : ""}`),
        h("p", {}, "Total ", h("strong", { "data-testid": "booking-total" }, P.money(b.total, b.currency))),
      ];
      if (b.hold_expires_at && ["awaiting_payment", "pending_host"].includes(b.status)) {
        parts.push(h("p", {}, b.status === "awaiting_payment" ? "Pay within " : "The host answers within ", P.countdown(b.hold_expires_at)));
      }
      if (isGuest && b.status === "awaiting_payment") {
        const token = h("input", { name: "payment_token", value: "tok_ok", autocomplete: "off" });
        const pay = h("button", { type: "submit" }, "Pay now");
        const form = h("form", { class: "pay", "aria-label": "Pay" }, P.field("Card (test token: tok_ok, tok_declined)", "payment_token", {}, token), P.formError(), pay);
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          P.act(form, pay, async () => {
            await P.post(`bookings/${id}/pay/`, { payment_token: token.value });
            await load();
          });
        });
        parts.push(form);
      }
      const actions = h("div", { class: "actions" });
      const errors = P.formError();
      const button = (label, path, cls) => {
        const el = h("button", { type: "button", class: cls }, label);
        el.addEventListener("click", () =>
          P.act(box, el, async () => {
            await P.post(`bookings/${id}/${path}/`);
            await load();
          }),
        );
        return el;
      };
      if (!isGuest && b.status === "pending_host") actions.append(button("Approve", "approve"), button("Decline", "decline", "secondary"));
      if (["pending_host", "awaiting_payment", "confirmed"].includes(b.status) && (isGuest || b.status === "confirmed")) {
        actions.append(button(isGuest ? "Cancel booking" : "Cancel as host", "cancel", "danger"));
      }
      parts.push(actions, errors, h("p", {}, h("a", { href: `#/p/${b.property}` }, "View the listing"), " · ", h("a", { href: isGuest ? "#/trips" : "#/reservations" }, isGuest ? "All trips" : "All reservations")));
      box.replaceChildren(...parts);
    }
    await load();
    P.onLive((frame) => {
      if (frame.booking && String(frame.booking.id) === String(id)) load().catch(() => {});
    });
  };

  // --- trips and reservations -------------------------------------------------------------

  function bookingRow(b, role, reload) {
    const actions = h("span", { class: "actions" });
    const row = h(
      "li",
      { class: "row", "data-booking": b.id },
      h("a", { href: `#/b/${b.id}` }, b.property_title),
      h("span", {}, `${P.niceDate(b.check_in)} → ${P.niceDate(b.check_out)}`),
      role === "host" ? h("span", {}, b.guest_name || "Guest") : null,
      h("span", {}, P.money(b.total, b.currency)),
      P.statusBadge(b.status),
      actions,
      P.formError(),
    );
    if (role === "guest" && b.status === "awaiting_payment") actions.append(h("a", { href: `#/b/${b.id}`, class: "button" }, "Pay now"));
    if (role === "host" && b.status === "pending_host") {
      for (const [label, path, cls] of [["Approve", "approve", ""], ["Decline", "decline", "secondary"]]) {
        const el = h("button", { type: "button", class: cls, "aria-label": `${label} booking ${b.id}` }, label);
        el.addEventListener("click", () => P.act(row, el, async () => {
          await P.post(`bookings/${b.id}/${path}/`);
          reload();
        }));
        actions.append(el);
      }
    }
    return row;
  }

  function negotiationRow(n) {
    const last = n.offers && n.offers.length ? n.offers[n.offers.length - 1] : null;
    return h(
      "li",
      { class: "row", "data-negotiation": n.id },
      h("a", { href: `#/n/${n.id}` }, n.property_title),
      h("span", {}, `${P.niceDate(n.check_in)} → ${P.niceDate(n.check_out)}`),
      h("span", {}, last ? `${last.side === "guest" ? "Guest" : "Host"} offered ${P.money(last.amount, n.currency)}` : "Inquiry"),
      P.statusBadge(n.status),
      n.status === "open" ? h("span", { class: "muted turn" }, `${n.turn === "guest" ? "Guest" : "Host"}'s turn`) : null,
    );
  }

  async function lists(role) {
    if (P.needLogin()) return;
    const title = role === "guest" ? "Your trips" : "Reservations";
    const bookings = h("ul", { class: "rows", "aria-label": "Bookings" });
    const negotiations = h("ul", { class: "rows", "aria-label": "Offers and conversations" });
    const errors = P.formError();
    const root = h("section", {}, h("h1", {}, title), errors, h("h2", {}, "Bookings"), bookings, h("h2", {}, "Offers"), negotiations);
    P.render(root);
    async function load() {
      await P.act(root, null, async () => {
        const [b, n] = await Promise.all([P.get(`bookings/${P.qs({ role })}`), P.get(`negotiations/${P.qs({ role })}`)]);
        bookings.replaceChildren(...(b.results.length ? b.results.map((x) => bookingRow(x, role, load)) : [h("li", { class: "muted" }, "None yet.")]));
        negotiations.replaceChildren(...(n.results.length ? n.results.map(negotiationRow) : [h("li", { class: "muted" }, "None yet.")]));
      });
    }
    await load();
    let pending = null;
    P.onLive((frame) => {
      if (!frame.booking && !frame.negotiation) return;
      clearTimeout(pending);
      pending = setTimeout(load, 150); // a burst of events reloads once
    });
  }

  pages.trips = () => lists("guest");
  pages.reservations = () => lists("host");
})(window.P);
