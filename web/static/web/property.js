/* Parley browser client: a listing's page: photos, free days, the live quote, book or make an offer. */
"use strict";

(function (P) {
  const h = P.h;
  P.pages = P.pages || {};
  const pages = P.pages;

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  pages.property = async function ({ id }, query) {
    const p = await P.get(`properties/${id}/`);
    const isOwner = P.me && p.host && p.host.id === P.me.id;
    const state = {
      check_in: query.get("check_in") || "",
      check_out: query.get("check_out") || "",
      guests: query.get("guests") || "1",
      stay_type: (p.stay_types[0] || { kind: "standard" }).kind,
    };

    const gallery = h(
      "div",
      { class: "gallery" },
      p.photos.map((photo, i) =>
        h("img", { src: photo.urls.card || photo.urls.url, alt: photo.caption || `${p.title}, photo ${i + 1}` }),
      ),
    );
    const amenities = h(
      "ul",
      { class: "amenities", "aria-label": "Amenities" },
      p.amenities.map((a) => h("li", { class: a.standout ? "standout" : "" }, a.name)),
    );

    const checkIn = h("input", { type: "date", name: "check_in", value: state.check_in, min: P.today() });
    const checkOut = h("input", { type: "date", name: "check_out", value: state.check_out, min: P.today() });
    const guests = h("input", { type: "number", name: "guests", min: 1, max: p.max_guests, value: state.guests });
    const stayType = P.select(
      "stay_type",
      p.stay_types.map((s) => [s.kind, { standard: "Standard", with_meals: "With meals", paying_guest: "Paying guest (monthly)" }[s.kind] || s.kind]),
      state.stay_type,
    );
    const quoteBox = h("div", { class: "quote", "aria-live": "polite", "data-testid": "quote" }, h("p", { class: "muted" }, "Choose your dates to see the price."));
    const calendar = h("div", { class: "calendar", "aria-label": "Calendar of free days" });

    const token = h("input", { name: "payment_token", value: "tok_ok", autocomplete: "off" });
    const bookButton = h("button", { type: "submit" }, p.instant_book ? "Book now" : "Request to book");
    const bookForm = h(
      "form",
      { class: "book", "aria-label": "Book" },
      P.field("Card (test token: tok_ok, tok_declined)", "payment_token", {}, token),
      P.formError(),
      bookButton,
    );
    const amount = h("input", { type: "number", name: "amount", min: "1", step: "0.01", inputmode: "decimal" });
    const message = h("textarea", { name: "message", rows: 2, maxlength: 2000 });
    const offerButton = h("button", { type: "submit", class: "secondary" }, "Make an offer");
    const offerForm = h(
      "form",
      { class: "offer", "aria-label": "Make an offer" },
      P.field(`Your offer, total in ${p.currency}`, "amount", {}, amount),
      P.field("Message to the host (optional)", "message", {}, message),
      P.formError(),
      offerButton,
    );

    let quote = null;
    const stayFields = h(
      "form",
      { class: "stay", "aria-label": "Your stay" },
      P.field("Check-in", "check_in", {}, checkIn),
      P.field("Check-out", "check_out", {}, checkOut),
      P.field("Guests", "guests", {}, guests),
      p.stay_types.length > 1 ? P.field("Stay type", "stay_type", {}, stayType) : null,
      P.formError(),
    );

    // The quote shown is the one booked: its total and currency go with the request.
    function showQuote(q, note) {
      quote = q;
      quoteBox.replaceChildren(
        note ? h("p", { class: "error", role: "alert", "data-testid": "price-changed" }, note) : "",
        h("ul", { class: "lines" }, q.line_items.map((li) => h("li", {}, h("span", {}, li.label), h("span", {}, P.money(li.amount, q.currency))))),
        h("p", { class: "total" }, h("span", {}, "Total"), h("strong", { "data-testid": "quote-total" }, P.money(q.total, q.currency))),
      );
      amount.max = q.total;
      amount.placeholder = `Below ${q.total}`;
    }

    async function refreshQuote() {
      Object.assign(state, { check_in: checkIn.value, check_out: checkOut.value, guests: guests.value, stay_type: stayType.value });
      markRange();
      quote = null;
      if (!state.check_in || !state.check_out) return;
      P.clearErrors(stayFields);
      try {
        showQuote(await P.get(`properties/${id}/quote/` + P.qs(state)));
      } catch (e) {
        quoteBox.replaceChildren(h("p", { class: "error", role: "alert" }, e.message));
      }
    }
    [checkIn, checkOut, guests, stayType].forEach((el) => el.addEventListener("change", refreshQuote));

    // Calendar: two months of availability; click a first and a last night.
    let days = [];
    async function loadCalendar() {
      const start = P.today();
      try {
        days = await P.get(`properties/${id}/availability/` + P.qs({ start, end: P.addDays(start, 62) }));
      } catch (e) {
        calendar.replaceChildren(h("p", { class: "error" }, e.message));
        return;
      }
      const months = new Map();
      for (const day of days) {
        const key = day.date.slice(0, 7);
        if (!months.has(key)) months.set(key, []);
        months.get(key).push(day);
      }
      calendar.replaceChildren(
        h("h2", {}, "Free days"),
        h("p", { class: "legend" }, h("span", { class: "day available" }, "free"), h("span", { class: "day blocked" }, "blocked"), h("span", { class: "day booked" }, "booked")),
        ...[...months.entries()].map(([key, list]) => {
          const [y, m] = key.split("-").map(Number);
          const first = new Date(y, m - 1, 1);
          const lead = (first.getDay() + 6) % 7;
          const offset = Number(list[0].date.slice(8, 10)) - 1;
          return h(
            "div",
            { class: "month" },
            h("h3", {}, first.toLocaleDateString(undefined, { month: "long", year: "numeric" })),
            h(
              "div",
              { class: "grid", role: "group", "aria-label": first.toLocaleDateString(undefined, { month: "long" }) },
              ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"].map((d) => h("span", { class: "dow", "aria-hidden": "true" }, d)),
              Array.from({ length: lead + offset }, () => h("span", { class: "pad" })),
              list.map((day) =>
                h(
                  "button",
                  {
                    type: "button",
                    class: `day ${day.status}`,
                    "data-date": day.date,
                    disabled: day.status !== "available",
                    "aria-label": `${P.niceDate(day.date)}, ${day.status}${day.nightly_price ? ", " + P.money(day.nightly_price, p.currency) : ""}`,
                    onclick: () => pickDay(day.date),
                  },
                  String(Number(day.date.slice(8, 10))),
                ),
              ),
            ),
          );
        }),
      );
      markRange();
    }
    function pickDay(date) {
      if (!checkIn.value || checkOut.value || date <= checkIn.value) {
        checkIn.value = date;
        checkOut.value = "";
      } else {
        checkOut.value = date;
      }
      refreshQuote();
    }
    function markRange() {
      calendar.querySelectorAll("button.day").forEach((b) => {
        const d = b.dataset.date;
        const inRange = checkIn.value && d >= checkIn.value && (checkOut.value ? d < checkOut.value : d === checkIn.value);
        b.classList.toggle("chosen", !!inRange);
        b.setAttribute("aria-pressed", inRange ? "true" : "false");
      });
    }

    bookForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (P.needLogin()) return;
      P.act(bookForm, bookButton, async () => {
        const expected = quote ? { expected_total: quote.total, expected_currency: quote.currency } : {};
        try {
          const booking = await P.post(
            "bookings/",
            { property: p.id, check_in: checkIn.value, check_out: checkOut.value, guests: Number(guests.value), stay_type: stayType.value, payment_token: token.value, ...expected },
            { headers: { "Idempotency-Key": newKey() } },
          );
          P.go(`#/b/${booking.id}`);
        } catch (e) {
          // 409 price_changed: nothing was charged; show the new quote, book again to accept it.
          if (e.code === "price_changed" && e.errors[0].quote) {
            const q = e.errors[0].quote;
            showQuote(q, `The price changed to ${P.money(q.total, q.currency)}. Nothing was charged; book again to accept it.`);
          }
          throw e;
        }
      });
    });
    offerForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (P.needLogin()) return;
      P.act(offerForm, offerButton, async () => {
        const body = { property: p.id, check_in: checkIn.value, check_out: checkOut.value, guests: Number(guests.value), stay_type: stayType.value, message: message.value.trim() };
        if (amount.value) body.amount = amount.value;
        try {
          const n = await P.post("negotiations/", body);
          P.go(`#/n/${n.id}`);
        } catch (e) {
          const existing = e.errors && e.errors.find((x) => x.negotiation_id);
          if (existing) {
            P.showErrors(offerForm, e);
            offerForm.querySelector('[data-error-for=""]').append(" ", h("a", { href: `#/n/${existing.negotiation_id}` }, "Open it"));
            return;
          }
          throw e;
        }
      });
    });

    const host = p.host || {};
    P.render(
      h(
        "article",
        { class: "property", "data-property": p.id },
        h("h1", {}, p.title),
        h(
          "p",
          { class: "muted" },
          [p.city, p.country].filter(Boolean).join(", "),
          " · ",
          p.rating ? `★ ${Number(p.rating).toFixed(2)} (${p.review_count} reviews)` : "No reviews yet",
          host.first_name ? ` · Hosted by ${host.first_name}${host.is_superhost ? " (Superhost)" : ""}` : "",
        ),
        isOwner ? h("p", {}, h("a", { href: `#/host/${p.id}`, class: "button secondary" }, "Edit this listing")) : null,
        gallery,
        h(
          "div",
          { class: "columns" },
          h(
            "div",
            {},
            h("p", { class: "description" }, p.description),
            h("p", {}, `Up to ${p.max_guests} guests · ${p.bedrooms} bedrooms · ${p.beds} beds · ${p.bathrooms} bathrooms`),
            h("p", {}, h("strong", {}, P.money(p.nightly_price, p.currency)), " / night", Number(p.cleaning_fee) ? ` · cleaning ${P.money(p.cleaning_fee, p.currency)}` : ""),
            h("h2", {}, "Amenities"),
            p.amenities.length ? amenities : h("p", { class: "muted" }, "None listed."),
            calendar,
          ),
          h(
            "aside",
            { class: "card side" },
            h("h2", {}, "Your stay"),
            stayFields,
            quoteBox,
            isOwner ? h("p", { class: "muted" }, "This is your listing.") : [bookForm, p.accepts_offers ? offerForm : null],
          ),
        ),
      ),
    );
    loadCalendar();
    refreshQuote();
  };
})(window.P);
