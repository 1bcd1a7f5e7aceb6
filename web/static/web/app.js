/* Parley browser client: who is logged in, the navigation, and hash routing. */
"use strict";

(function (P) {
  const h = P.h;
  P.me = null;

  // Routes: "#/p/12?check_in=..." -> handler({id: "12"}, URLSearchParams)
  const ROUTES = [
    [/^\/$/, "search"],
    [/^\/login$/, "login"],
    [/^\/signup$/, "signup"],
    [/^\/forgot$/, "forgot"],
    [/^\/reset$/, "resetPassword"],
    [/^\/logout$/, "logout"],
    [/^\/become-host$/, "becomeHost"],
    [/^\/p\/(?<id>\d+)$/, "property"],
    [/^\/n\/(?<id>\d+)$/, "room"],
    [/^\/b\/(?<id>\d+)$/, "booking"],
    [/^\/trips$/, "trips"],
    [/^\/reservations$/, "reservations"],
    [/^\/host$/, "hostListings"],
    [/^\/host\/new$/, "hostNew"],
    [/^\/host\/(?<id>\d+)$/, "hostEdit"],
  ];
  P.pages = P.pages || {};

  let leaveHooks = [];
  P.onLeave = (fn) => leaveHooks.push(fn);

  P.go = function (hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  };

  P.needLogin = function () {
    if (P.me) return false;
    sessionStorage.setItem("parley.next", location.hash || "#/");
    P.go("#/login");
    return true;
  };

  P.setMe = function (user) {
    const was = P.me && P.me.id;
    P.me = user;
    // Not a secret: only whether to ask auth/me/ on the next visit (cookies are httpOnly).
    if (user) localStorage.setItem("parley.session", "1");
    else localStorage.removeItem("parley.session");
    renderNav();
    if (user && user.id !== was) P.startNotifications();
    if (!user) P.stopNotifications();
  };

  function renderNav() {
    const nav = document.getElementById("nav");
    const links = [h("a", { href: "#/" }, "Search")];
    if (P.me) {
      links.push(h("a", { href: "#/trips" }, "Trips"));
      if (P.me.is_host) {
        links.push(h("a", { href: "#/reservations" }, "Reservations"));
        links.push(h("a", { href: "#/host" }, "Listings"));
      } else {
        links.push(h("a", { href: "#/become-host" }, "Become a host"));
      }
      links.push(h("a", { href: "#/logout", "data-user": P.me.email }, "Log out"));
    } else {
      links.push(h("a", { href: "#/login" }, "Log in"), h("a", { href: "#/signup" }, "Sign up"));
    }
    nav.replaceChildren(...links);
    nav.querySelectorAll("a").forEach((a) => {
      if (a.getAttribute("href") === (location.hash.split("?")[0] || "#/")) a.setAttribute("aria-current", "page");
    });
  }

  async function route() {
    leaveHooks.forEach((fn) => {
      try {
        fn();
      } catch (e) {
        /* keep going */
      }
    });
    leaveHooks = [];
    const raw = location.hash.replace(/^#/, "") || "/";
    const [path, query] = raw.split("?");
    const params = new URLSearchParams(query || "");
    renderNav();
    for (const [pattern, name] of ROUTES) {
      const match = pattern.exec(path);
      if (match) {
        try {
          await P.pages[name]((match.groups || {}), params);
        } catch (e) {
          P.render(h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, e.message));
        }
        document.getElementById("main").focus({ preventScroll: true });
        return;
      }
    }
    P.render(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to search")));
  }

  // Links in emails land on real paths; handle them, then continue in the page.
  async function emailLinks() {
    const params = new URLSearchParams(location.search);
    if (location.pathname === "/verify-email" && params.get("token")) {
      try {
        await P.post("auth/verify-email/", { token: params.get("token") });
        P.toast("Your email address is verified.");
      } catch (e) {
        P.toast(e.message);
      }
      history.replaceState(null, "", "/#/");
    } else if (location.pathname === "/reset-password") {
      const link = new URLSearchParams({ uid: params.get("uid") || "", token: params.get("token") || "" });
      history.replaceState(null, "", "/#/reset?" + link.toString());
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    await emailLinks();
    let user = null;
    if (localStorage.getItem("parley.session")) {
      try {
        user = await P.get("auth/me/");
      } catch (e) {
        user = null;
      }
    }
    P.setMe(user);
    window.addEventListener("hashchange", route);
    route();
  });
})(window.P);
