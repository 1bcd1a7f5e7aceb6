/* Parley browser client: REST calls (cookies + CSRF), errors in words. */
"use strict";

window.P = window.P || {};

(function (P) {
  const BASE = "/api/v1/";

  function cookie(name) {
    const match = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return match ? decodeURIComponent(match.slice(name.length + 1)) : "";
  }

  // Friendlier words for codes a person meets often; otherwise the server's own detail.
  const WORDS = {
    not_authenticated: "Please log in first.",
    token_not_valid: "Your session has ended. Please log in again.",
    invalid_credentials: "Email or password is incorrect.",
    email_unverified: "Please verify your email address first (see the link we sent you).",
    not_a_host: "Only hosts can do this. Become a host first.",
    csrf_failed: "Your session is out of date. Reload the page and try again.",
    throttled: "Too many attempts. Wait a moment and try again.",
    not_found: "Not found, or not yours to see.",
    service_unavailable: "The service is busy. Try again in a moment.",
    payment_declined: "The card was declined.",
    payment_gateway_error: "The payment service failed. Nothing was charged; try again.",
    network: "Cannot reach Parley. Check your connection and try again.",
  };

  class ApiError extends Error {
    constructor(status, body) {
      const errors = (body && Array.isArray(body.errors) && body.errors) || [];
      super(errors.length ? errors.map(P.words).join(" ") : "Something went wrong.");
      this.status = status;
      this.errors = errors;
      this.code = errors.length ? errors[0].code : "error";
    }
    byField() {
      const out = {};
      for (const e of this.errors) {
        const key = e.attr || "";
        (out[key] = out[key] || []).push(P.words(e));
      }
      return out;
    }
  }

  P.ApiError = ApiError;

  // Codes whose own words read better than the server's technical detail.
  const PREFER_OURS = ["network", "throttled", "email_unverified", "csrf_failed", "not_authenticated"];

  P.words = function (error) {
    if (!error) return "Something went wrong.";
    if (PREFER_OURS.includes(error.code)) return WORDS[error.code];
    return error.detail || WORDS[error.code] || "Something went wrong.";
  };

  let refreshing = null;

  async function refresh() {
    if (!refreshing) {
      refreshing = fetch(BASE + "auth/token/refresh/", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken") },
        body: "{}",
      })
        .then((r) => r.ok)
        .catch(() => false)
        .finally(() => {
          setTimeout(() => (refreshing = null), 0);
        });
    }
    return refreshing;
  }

  async function send(method, path, body, options) {
    const headers = { Accept: "application/json" };
    let payload;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    if (method !== "GET") headers["X-CSRFToken"] = cookie("csrftoken");
    Object.assign(headers, (options && options.headers) || {});
    let response;
    try {
      response = await fetch(path.startsWith("/") ? path : BASE + path, {
        method,
        headers,
        body: payload,
        credentials: "same-origin",
      });
    } catch (e) {
      throw new ApiError(0, { errors: [{ code: "network", detail: "", attr: null }] });
    }
    if (response.status === 204) return null;
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // One retry after refreshing the 5-minute access cookie.
  P.api = async function (method, path, body, options) {
    try {
      return await send(method, path, body, options);
    } catch (e) {
      if (e.status === 401 && !path.startsWith("auth/token") && (await refresh())) {
        return send(method, path, body, options);
      }
      throw e;
    }
  };
  P.get = (path) => P.api("GET", path);
  P.post = (path, body, options) => P.api("POST", path, body === undefined ? {} : body, options);
  P.patch = (path, body) => P.api("PATCH", path, body);
  P.del = (path) => P.api("DELETE", path);

  P.qs = function (params) {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== "") search.set(k, v);
    }
    const s = search.toString();
    return s ? "?" + s : "";
  };
})(window.P);
