/* Parley browser client: search for stays, and their result cards. */
"use strict";

(function (P) {
  const h = P.h;
  P.pages = P.pages || {};
  const pages = P.pages;

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
})(window.P);
