/* Parley browser client: a host's listings, the listing editor (draft, PATCH, photos,
   publish) and blocked dates. */
"use strict";

(function (P) {
  const h = P.h;
  const pages = P.pages;

  function needHost() {
    if (P.needLogin()) return true;
    if (!P.me.is_host) {
      P.go("#/become-host");
      return true;
    }
    return false;
  }

  pages.hostListings = async function () {
    if (needHost()) return;
    const page = await P.get("properties/mine/");
    const list = page.results || page;
    P.render(
      h("h1", {}, "Your listings"),
      h("p", {}, h("a", { class: "button", href: "#/host/new" }, "New listing")),
      h(
        "ul",
        { class: "rows", "aria-label": "Listings" },
        list.length
          ? list.map((p) =>
              h(
                "li",
                { class: "row", "data-property": p.id },
                h("a", { href: `#/host/${p.id}` }, p.title || "Untitled draft"),
                h("span", {}, p.city || ""),
                h("span", { class: `status status-${p.status}` }, p.status),
                p.status === "published" ? h("a", { href: `#/p/${p.id}` }, "View") : null,
              ),
            )
          : [h("li", { class: "muted" }, "No listings yet.")],
      ),
    );
  };

  pages.hostNew = function () {
    if (needHost()) return;
    const submit = h("button", { type: "submit" }, "Create draft");
    const form = h(
      "form",
      { class: "card narrow", "aria-labelledby": "new-title" },
      h("h1", { id: "new-title" }, "New listing"),
      P.field("Title", "title", { required: true, maxlength: 120 }),
      P.formError(),
      submit,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      P.act(form, submit, async () => {
        const p = await P.post("properties/", { title: P.formData(form).title });
        P.go(`#/host/${p.id}`);
      });
    });
    P.render(form);
  };

  const TYPES = [["apartment", "Apartment"], ["house", "House"], ["room", "Private room"], ["guesthouse", "Guesthouse"], ["villa", "Villa"], ["cabin", "Cabin"], ["hostel", "Hostel"]];
  const POLICIES = [["flexible", "Flexible"], ["moderate", "Moderate"], ["strict", "Strict"]];
  const TEXT = ["title", "description", "address", "city", "country", "timezone", "currency", "property_type", "cancellation_policy"];
  const NUMBERS = ["max_guests", "bedrooms", "beds", "bathrooms", "min_nights", "cleaning_fee", "latitude", "longitude"];
  const NULLABLE = ["floor_nightly_price", "auto_accept_nightly_price"];

  pages.hostEdit = async function ({ id }) {
    if (needHost()) return;
    const [p, amenityList] = await Promise.all([P.get(`properties/${id}/`), P.get("amenities/")]);
    const amenities = amenityList.results || amenityList;
    const standard = p.stay_types.find((s) => s.kind === "standard") || {};
    const have = new Set(p.amenities.map((a) => a.code));
    const v = (x) => (x === null || x === undefined ? "" : x);

    const save = h("button", { type: "submit" }, "Save");
    const publish = h("button", { type: "button", class: "secondary" }, "Publish");
    const status = h("p", {}, "Status: ", h("span", { class: `status status-${p.status}`, "data-testid": "listing-status" }, p.status));
    const description = h("textarea", { name: "description", rows: 4, maxlength: 10000 }, v(p.description));
    const form = h(
      "form",
      { class: "editor", "aria-label": "Listing details", novalidate: true },
      h("fieldset", {}, h("legend", {}, "The place"),
        P.field("Title", "title", { value: v(p.title), maxlength: 120 }),
        P.field("Description (at least 20 characters)", "description", {}, description),
        P.field("Type", "property_type", {}, P.select("property_type", TYPES, p.property_type)),
        P.field("Guests at most", "max_guests", { type: "number", min: 1, max: 50, value: v(p.max_guests) }),
        P.field("Bedrooms", "bedrooms", { type: "number", min: 0, value: v(p.bedrooms) }),
        P.field("Beds", "beds", { type: "number", min: 0, value: v(p.beds) }),
        P.field("Bathrooms", "bathrooms", { type: "number", min: 0, step: "0.5", value: v(p.bathrooms) })),
      h("fieldset", {}, h("legend", {}, "Where"),
        P.field("Address", "address", { value: v(p.address) }),
        P.field("City", "city", { value: v(p.city) }),
        P.field("Country (2 letters)", "country", { value: v(p.country), maxlength: 2 }),
        P.field("Latitude", "latitude", { type: "number", step: "any", value: v(p.latitude) }),
        P.field("Longitude", "longitude", { type: "number", step: "any", value: v(p.longitude) }),
        h("p", { class: "error", "data-error-for": "location", hidden: true }),
        P.field("Time zone", "timezone", { value: v(p.timezone) || Intl.DateTimeFormat().resolvedOptions().timeZone })),
      h("fieldset", {}, h("legend", {}, "Price and rules"),
        P.field("Currency", "currency", { value: v(p.currency) || "EUR", maxlength: 3 }),
        P.field("Nightly price", "nightly_price", { type: "number", min: 1, step: "0.01", value: v(standard.nightly_price) }),
        h("p", { class: "error", "data-error-for": "stay_types", hidden: true }),
        P.field("Cleaning fee", "cleaning_fee", { type: "number", min: 0, step: "0.01", value: v(p.cleaning_fee) }),
        P.field("Minimum nights", "min_nights", { type: "number", min: 1, value: v(p.min_nights) }),
        P.field("Cancellation policy", "cancellation_policy", {}, P.select("cancellation_policy", POLICIES, p.cancellation_policy)),
        P.checkbox("Instant book", "instant_book", p.instant_book),
        P.checkbox("Accept offers (negotiation)", "accepts_offers", p.accepts_offers),
        P.field("Private floor, per night (offers below are declined)", "floor_nightly_price", { type: "number", min: 1, step: "0.01", value: v(p.floor_nightly_price) }),
        P.field("Auto-accept, per night", "auto_accept_nightly_price", { type: "number", min: 1, step: "0.01", value: v(p.auto_accept_nightly_price) })),
      h("fieldset", { class: "amenity-picks" }, h("legend", {}, "Amenities"),
        amenities.map((a) => {
          const cid = `am-${a.code}`;
          return h("span", { class: "pick" }, h("input", { type: "checkbox", id: cid, value: a.code, "data-amenity": a.code, checked: have.has(a.code) }), h("label", { for: cid }, a.name));
        }),
        h("p", { class: "error", "data-error-for": "amenities", hidden: true })),
      h("p", { class: "error", "data-error-for": "photos", hidden: true }),
      P.formError(),
      h("div", { class: "actions" }, save, publish),
    );

    function body() {
      const data = P.formData(form);
      const out = {};
      for (const k of TEXT) if (k in data) out[k] = data[k];
      for (const k of NUMBERS) if (data[k] !== "" && data[k] !== undefined) out[k] = data[k];
      for (const k of NULLABLE) out[k] = data[k] === "" ? null : data[k];
      out.instant_book = data.instant_book;
      out.accepts_offers = data.accepts_offers;
      if (out.country) out.country = out.country.toUpperCase();
      if (out.currency) out.currency = out.currency.toUpperCase();
      out.amenities = [...form.querySelectorAll("[data-amenity]")].filter((c) => c.checked).map((c) => c.value);
      if (data.nightly_price) out.stay_types = [{ kind: "standard", nightly_price: data.nightly_price }];
      return out;
    }
    // A stay_types.0.nightly_price error belongs beside the nightly price.
    function show(e) {
      if (e instanceof P.ApiError) e.errors.forEach((x) => x.attr && x.attr.startsWith("stay_types.") && (x.attr = "nightly_price"));
      P.showErrors(form, e);
    }
    async function saveNow() {
      const saved = await P.patch(`properties/${id}/`, body());
      status.querySelector("span").textContent = saved.status;
      return saved;
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      P.clearErrors(form);
      try {
        await saveNow();
        P.toast("Saved.");
      } catch (e) {
        show(e);
      } finally {
        save.disabled = false;
      }
    });
    publish.addEventListener("click", async () => {
      publish.disabled = true;
      P.clearErrors(form);
      try {
        await saveNow();
        const done = await P.post(`properties/${id}/publish/`);
        status.querySelector("span").textContent = done.status;
        P.toast("Published: guests can find it now.");
      } catch (e) {
        show(e);
      } finally {
        publish.disabled = false;
      }
    });

    // Photos
    const photoList = h("ul", { class: "photos", "aria-label": "Photos" });
    const fileInput = h("input", { type: "file", name: "image", accept: "image/jpeg,image/png,image/webp", multiple: true });
    const photoBox = h("section", { class: "card" }, h("h2", {}, "Photos"), photoList, P.field("Add photos (JPEG, PNG or WebP)", "image", {}, fileInput), P.formError());
    function drawPhotos(photos) {
      photoList.replaceChildren(
        ...photos.map((ph, i) =>
          h("li", { "data-photo": ph.id }, h("img", { src: ph.urls.thumb || ph.urls.url, alt: `Photo ${i + 1}${ph.is_cover ? " (cover)" : ""}` }), ph.is_cover ? h("small", {}, "Cover") : null),
        ),
      );
    }
    drawPhotos(p.photos);
    fileInput.addEventListener("change", () =>
      P.act(photoBox, fileInput, async () => {
        for (const file of fileInput.files) {
          const data = new FormData();
          data.append("image", file);
          await P.api("POST", `properties/${id}/photos/`, data);
        }
        fileInput.value = "";
        const photos = await P.get(`properties/${id}/photos/`);
        drawPhotos(photos.results || photos);
      }),
    );

    // Blocked dates
    const blockList = h("ul", { class: "rows", "aria-label": "Blocked dates" });
    const blockSubmit = h("button", { type: "submit" }, "Block these dates");
    const blockForm = h(
      "form",
      { class: "blocks", "aria-label": "Block dates" },
      P.field("From", "start", { type: "date", min: P.today(), required: true }),
      P.field("Until (exclusive)", "end", { type: "date", min: P.today(), required: true }),
      P.field("Note", "note", { maxlength: 200 }),
      P.formError(),
      blockSubmit,
    );
    async function drawBlocks() {
      const blocks = await P.get(`properties/${id}/blocks/`);
      const rows = blocks.results || blocks;
      blockList.replaceChildren(
        ...(rows.length
          ? rows.map((b) => {
              const remove = h("button", { type: "button", class: "secondary", "aria-label": `Remove block ${b.start} to ${b.end}` }, "Remove");
              const row = h("li", { class: "row", "data-block": b.id }, h("span", {}, `${P.niceDate(b.start)} → ${P.niceDate(b.end)}`), h("span", { class: "muted" }, b.note || b.source || ""), remove, P.formError());
              remove.addEventListener("click", () => P.act(row, remove, async () => {
                await P.del(`properties/${id}/blocks/${b.id}/`);
                await drawBlocks();
              }));
              return row;
            })
          : [h("li", { class: "muted" }, "No blocked dates.")]),
      );
    }
    blockForm.addEventListener("submit", (event) => {
      event.preventDefault();
      P.act(blockForm, blockSubmit, async () => {
        await P.post(`properties/${id}/blocks/`, P.formData(blockForm));
        blockForm.reset();
        await drawBlocks();
      });
    });

    P.render(
      h("h1", {}, p.title || "Untitled draft"),
      status,
      p.status === "published" ? h("p", {}, h("a", { href: `#/p/${p.id}` }, "View the public page")) : null,
      form,
      photoBox,
      h("section", { class: "card" }, h("h2", {}, "Blocked dates"), blockList, blockForm),
    );
    drawBlocks();
  };
})(window.P);
