/* Parley browser client: DOM helpers, forms with errors beside their fields, formatting. */
"use strict";

(function (P) {
  // h("div", {class: "x", onclick: fn}, "text", child, [children]) -- never parses HTML.
  P.h = function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "dataset") {
        Object.assign(el.dataset, value);
      } else if (value === true) {
        el.setAttribute(key, "");
      } else {
        el.setAttribute(key, String(value));
      }
    }
    const add = (child) => {
      if (child === undefined || child === null || child === false) return;
      if (Array.isArray(child)) return child.forEach(add);
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    };
    children.forEach(add);
    return el;
  };
  const h = P.h;

  P.main = () => document.getElementById("main");

  P.render = function (...children) {
    const main = P.main();
    main.replaceChildren(...children.flat().filter(Boolean));
    return main;
  };

  let fieldSeq = 0;
  // A labelled control with an error slot: <div class=field><label/><input/><p class=error/>
  P.field = function (label, name, attrs, control) {
    const id = "f-" + name.replace(/[^a-z0-9]+/gi, "-") + "-" + ++fieldSeq;
    const input = control || h("input", Object.assign({ name, id }, attrs || {}));
    input.id = input.id || id;
    if (!input.name) input.name = name;
    const error = h("p", { class: "error", "data-error-for": name, id: input.id + "-error", hidden: true });
    input.setAttribute("aria-describedby", error.id);
    return h("div", { class: "field" }, h("label", { for: input.id }, label), input, error);
  };

  P.select = function (name, options, value) {
    return h(
      "select",
      { name },
      options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value) }, label)),
    );
  };

  P.checkbox = function (label, name, checked) {
    const id = "c-" + name + "-" + ++fieldSeq;
    return h(
      "div",
      { class: "field check" },
      h("input", { type: "checkbox", name, id, checked: !!checked }),
      h("label", { for: id }, label),
      h("p", { class: "error", "data-error-for": name, hidden: true }),
    );
  };

  // The slot for errors that belong to no field (or to the action as a whole).
  P.formError = () => h("p", { class: "error form-error", "data-error-for": "", role: "alert", hidden: true });

  P.clearErrors = function (root) {
    root.querySelectorAll("[data-error-for]").forEach((el) => {
      el.textContent = "";
      el.hidden = true;
    });
    root.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  };

  // Put each error beside its field ("stay_types.0.nightly_price" falls back to its
  // prefixes); the rest go to the form's own slot. Always words, never JSON.
  P.showErrors = function (root, error) {
    P.clearErrors(root);
    const groups = error instanceof P.ApiError ? error.byField() : { "": [String(error.message || error)] };
    const general = [];
    for (const [attr, messages] of Object.entries(groups)) {
      let slot = null;
      let name = attr;
      while (name && !slot) {
        slot = root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
        if (!slot) name = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : "";
      }
      if (slot && name) {
        slot.textContent = messages.join(" ");
        slot.hidden = false;
        const input = root.querySelector(`[name="${CSS.escape(name)}"]`);
        if (input) input.setAttribute("aria-invalid", "true");
      } else {
        general.push(...messages.map((m) => (attr && !attr.includes(".") ? `${label(attr)}: ${m}` : m)));
      }
    }
    if (general.length) {
      const slot = root.querySelector('[data-error-for=""]');
      if (slot) {
        slot.textContent = general.join(" ");
        slot.hidden = false;
      } else {
        P.toast(general.join(" "));
      }
    }
  };

  function label(attr) {
    const text = attr.replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // Run an async action from a form or button: busy state, errors shown in words.
  P.act = async function (root, button, fn) {
    if (button) button.disabled = true;
    P.clearErrors(root);
    try {
      return await fn();
    } catch (e) {
      P.showErrors(root, e);
      return undefined;
    } finally {
      if (button) button.disabled = false;
    }
  };

  P.formData = function (form) {
    const data = {};
    for (const el of form.elements) {
      if (!el.name || el.type === "file" || el.type === "submit") continue;
      if (el.type === "checkbox") data[el.name] = el.checked;
      else data[el.name] = el.value.trim();
    }
    return data;
  };

  let toastTimer;
  P.toast = function (text) {
    const el = document.getElementById("toast");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (el.hidden = true), 4000);
  };

  P.money = function (amount, currency) {
    if (amount === null || amount === undefined || amount === "") return "";
    const n = Number(amount);
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "EUR" }).format(n);
    } catch (e) {
      return `${n.toFixed(2)} ${currency || ""}`.trim();
    }
  };

  P.isoDate = function (d) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  };
  P.addDays = function (iso, days) {
    const [y, m, d] = iso.split("-").map(Number);
    return P.isoDate(new Date(y, m - 1, d + days));
  };
  P.today = () => P.isoDate(new Date());
  P.niceDate = function (iso) {
    if (!iso) return "";
    const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
    return new Date(y, m - 1, d).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  };
  P.time = function (iso) {
    return iso ? new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }) : "";
  };

  P.timeLeft = function (iso) {
    const ms = new Date(iso).getTime() - Date.now();
    if (!(ms > 0)) return "expired";
    const s = Math.floor(ms / 1000);
    const hh = Math.floor(s / 3600);
    const mm = Math.floor((s % 3600) / 60);
    const ss = s % 60;
    return hh ? `${hh}h ${String(mm).padStart(2, "0")}m left` : `${mm}m ${String(ss).padStart(2, "0")}s left`;
  };

  // Every element with data-expires gets a live countdown; one timer for the page.
  setInterval(() => {
    document.querySelectorAll("[data-expires]").forEach((el) => {
      const text = P.timeLeft(el.dataset.expires);
      if (el.textContent !== text) el.textContent = text;
      if (text === "expired" && !el.dataset.fired) {
        el.dataset.fired = "1";
        el.dispatchEvent(new CustomEvent("expired", { bubbles: true }));
      }
    });
  }, 1000);

  P.countdown = (iso) => h("span", { class: "countdown", "data-expires": iso }, P.timeLeft(iso));

  const STATUS_WORDS = {
    pending_host: "Waiting for the host",
    awaiting_payment: "Awaiting payment",
    confirmed: "Confirmed",
    declined: "Declined",
    expired: "Expired",
    cancelled: "Cancelled",
    completed: "Completed",
    open: "Open",
    accepted: "Accepted",
    withdrawn: "Withdrawn",
    unavailable: "Dates taken",
  };
  P.statusBadge = (status) =>
    h("span", { class: `status status-${status}`, "data-status": status }, STATUS_WORDS[status] || status);
})(window.P);
