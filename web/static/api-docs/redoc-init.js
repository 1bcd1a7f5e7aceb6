"use strict";
// Starts ReDoc on /api/redoc/. The nonce of this script tag is the one the page's CSP
// allows for styles: ReDoc puts it on the <style> elements it creates.
(function () {
  const container = document.getElementById("redoc-container");
  const settings = JSON.parse(container.dataset.settings || "{}");
  const nonce = document.currentScript && document.currentScript.nonce;
  if (nonce) settings.nonce = nonce;
  Redoc.init(container.dataset.schemaUrl, settings, container);
})();
