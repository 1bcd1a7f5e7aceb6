/* Parley browser client: accounts, search, property, booking, trips and reservations. */
"use strict";

(function (P) {
  const h = P.h;
  P.pages = P.pages || {};
  const pages = P.pages;

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // --- accounts ---------------------------------------------------------------------------

  function afterLogin(user) {
    P.setMe(user);
    const next = sessionStorage.getItem("parley.next") || "#/";
    sessionStorage.removeItem("parley.next");
    P.go(next === "#/login" || next === "#/signup" ? "#/" : next);
  }

  pages.login = function () {
    const submit = h("button", { type: "submit" }, "Log in");
    const form = h(
      "form",
      { class: "card narrow", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title" }, "Log in"),
      P.field("Email", "email", { type: "email", autocomplete: "email", required: true }),
      P.field("Password", "password", { type: "password", autocomplete: "current-password", required: true }),
      P.formError(),
      submit,
      h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account")),
      h("p", {}, h("a", { href: "#/forgot" }, "Forgot your password?")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      P.act(form, submit, async () => {
        const body = await P.post("auth/token/", P.formData(form));
        afterLogin(body.user);
      });
    });
    P.render(form);
  };

  pages.signup = function () {
    const submit = h("button", { type: "submit" }, "Sign up");
    const form = h(
      "form",
      { class: "card narrow", "aria-labelledby": "signup-title" },
      h("h1", { id: "signup-title" }, "Create your account"),
      P.field("First name", "first_name", { autocomplete: "given-name" }),
      P.field("Last name", "last_name", { autocomplete: "family-name" }),
      P.field("Email", "email", { type: "email", autocomplete: "email", required: true }),
      P.field("Password", "password", { type: "password", autocomplete: "new-password", required: true }),
      P.formError(),
      submit,
      h("p", {}, "Already have an account? ", h("a", { href: "#/login" }, "Log in")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      P.act(form, submit, async () => {
        const data = P.formData(form);
        await P.post("auth/register/", data);
        const body = await P.post("auth/token/", { email: data.email, password: data.password });
        P.toast("Welcome! We sent you an email to verify your address.");
        afterLogin(body.user);
      });
    });
    P.render(form);
  };

  pages.forgot = function () {
    const submit = h("button", { type: "submit" }, "Send me a link");
    const form = h(
      "form",
      { class: "card narrow", "aria-labelledby": "forgot-title" },
      h("h1", { id: "forgot-title" }, "Reset your password"),
      P.field("Email", "email", { type: "email", autocomplete: "email", required: true }),
      P.formError(),
      submit,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      P.act(form, submit, async () => {
        await P.post("auth/password-reset/", P.formData(form));
        P.render(
          h("h1", {}, "Check your email"),
          h("p", {}, "If an account uses that address, we sent it a link to choose a new password."),
        );
      });
    });
    P.render(form);
  };

  // The emailed link (/reset-password?uid=&token=) lands here.
  pages.resetPassword = function (_match, params) {
    const submit = h("button", { type: "submit" }, "Save the new password");
    const form = h(
      "form",
      { class: "card narrow", "aria-labelledby": "reset-title" },
      h("h1", { id: "reset-title" }, "Choose a new password"),
      P.field("New password", "new_password", { type: "password", autocomplete: "new-password", required: true }),
      P.formError(),
      submit,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      P.act(form, submit, async () => {
        const data = { ...P.formData(form), uid: params.get("uid") || "", token: params.get("token") || "" };
        await P.post("auth/password-reset/confirm/", data);
        P.toast("Your password is changed. Log in with the new one.");
        P.go("#/login");
      });
    });
    P.render(form);
  };

  pages.logout = async function () {
    try {
      await P.post("auth/logout/");
    } catch (e) {
      /* cookies are cleared either way */
    }
    P.setMe(null);
    P.render(h("h1", {}, "You are logged out"), h("p", {}, h("a", { href: "#/login" }, "Log in again")));
  };

  pages.becomeHost = function () {
    if (P.needLogin()) return;
    const button = h("button", { type: "button" }, "Become a host");
    const box = h(
      "section",
      { class: "card narrow" },
      h("h1", {}, "Host on Parley"),
      h("p", {}, "List your place, set your price and your floor, and negotiate with guests live."),
      P.formError(),
      button,
    );
    button.addEventListener("click", () =>
      P.act(box, button, async () => {
        P.setMe(await P.post("auth/become-host/"));
        P.go("#/host/new");
      }),
    );
    if (P.me.is_host) box.replaceChildren(h("h1", {}, "You are a host"), h("a", { href: "#/host" }, "Your listings"));
    P.render(box);
  };

  // --- search -----------------------------------------------------------------------------

  pages.search = async function (_params, query) {
    const submit = h("button", { type: "submit" }, "Search");
    const value = (name) => query.get(name) || "";
    const form = h(
      "form",
      { class: "search", role: "search", "aria-label": "Search stays" },
      P.field("City", "city", { value: value("city"), placeholder: "Anywhere" }),
      P.field("Check-in", "check_in", { type: "date", value: value("check_in"), min: P.today() }),
      P.field("Check-out", "check_out", { type: "date", value: value("check_out"), min: P.today() }),
      P.field("Guests", "guests", { type: "number", min: 1, max: 50, value: value("guests") }),
      P.field("Min price / night", "min_price", { type: "number", min: 0, step: "1", value: value("min_price") }),
      P.field("Max price / night", "max_price", { type: "number", min: 0, step: "1", value: value("max_price") }),
      h("div", { class: "field submit" }, submit),
      P.formError(),
    );
    const results = h("section", { class: "results", "aria-live": "polite", "aria-label": "Results" });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      P.go("#/" + P.qs(P.formData(form)));
    });
    P.render(h("h1", { class: "visually-hidden" }, "Find a stay"), form, results);
    const params = Object.fromEntries(query.entries());
    await P.act(form, submit, async () => {
      const page = await P.get("properties/" + P.qs(params));
      const stayQuery = P.qs({ check_in: params.check_in, check_out: params.check_out, guests: params.guests });
      results.replaceChildren(
        ...(page.results.length
          ? page.results.map((p) => resultCard(p, stayQuery))
          : [h("p", { class: "muted" }, "No stays match. Try other dates or a wider price range.")]),
      );
    });
  };

  function resultCard(p, stayQuery) {
    return h(
      "article",
      { class: "result", "data-property": p.id },
      h(
        "a",
        { href: `#/p/${p.id}${stayQuery}`, class: "result-link" },
        p.cover && p.cover.card
          ? h("img", { src: p.cover.card, alt: `Photo of ${p.title}`, loading: "lazy" })
          : h("div", { class: "noimg", "aria-hidden": "true" }),
        h("h2", {}, p.title),
      ),
      h("p", { class: "muted" }, [p.city, p.country].filter(Boolean).join(", ")),
      h(
        "p",
        {},
        h("strong", { class: "price" }, P.money(p.nightly_average || p.nightly_price, p.currency)),
        " / night · ",
        p.stay_total ? h("span", { class: "stay-total" }, `${P.money(p.stay_total, p.currency)} total · `) : null,
        h("span", { class: "rating" }, p.rating ? `★ ${Number(p.rating).toFixed(2)} (${p.review_count})` : "New"),
      ),
      h("p", { class: "tags" }, p.instant_book ? h("span", { class: "tag" }, "Instant book") : null, p.accepts_offers ? h("span", { class: "tag" }, "Takes offers") : null),
    );
  }

  // --- property ---------------------------------------------------------------------------

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

  // --- one booking: pay, approve, decline, cancel -----------------------------------------

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
