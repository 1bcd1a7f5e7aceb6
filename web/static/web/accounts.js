/* Parley browser client: accounts: log in, sign up, a forgotten password, log out, become a host. */
"use strict";

(function (P) {
  const h = P.h;
  P.pages = P.pages || {};
  const pages = P.pages;

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
})(window.P);
