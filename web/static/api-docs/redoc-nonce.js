"use strict";
// Loaded before ReDoc's bundle, to keep ReDoc within the page's strict CSP:
// - ReDoc writes <style> elements as soon as it loads (its own CSS) and while it renders
//   (styled-components). The CSP allows only styles from this origin or carrying this
//   script's nonce: every <style> element made with document.createElement gets the
//   nonce. Markup parsed from strings (innerHTML) does not, so styles injected through
//   content stay blocked.
// - ReDoc's side menu shows Redocly's logo from cdn.redoc.ly: that one image is not
//   requested (the docs make no request to another host; the link text stays).
(function () {
  const nonce = document.currentScript && document.currentScript.nonce;
  const createElement = Document.prototype.createElement;
  document.createElement = function (tagName, options) {
    const element = createElement.call(this, tagName, options);
    if (nonce && String(tagName).toLowerCase() === "style") element.setAttribute("nonce", nonce);
    return element;
  };
  const foreignLogo = (element, name, value) =>
    element instanceof HTMLImageElement &&
    String(name).toLowerCase() === "src" &&
    String(value).startsWith("https://cdn.redoc.ly/");
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (foreignLogo(this, name, value)) return undefined;
    return setAttribute.call(this, name, value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      if (!foreignLogo(this, "src", value)) src.set.call(this, value);
    },
  });
})();
