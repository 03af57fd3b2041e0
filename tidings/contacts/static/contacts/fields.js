// Propose a new field's alias from its label (the server makes the slug) until the alias is typed by hand.
(function () {
  "use strict";
  function setUp() {
    var label = document.querySelector("input[data-alias-url]");
    var alias = label && label.form ? label.form.querySelector("input[name=alias]") : null;
    if (!alias) return;
    var byHand = alias.value !== "";
    var pending = 0;
    alias.addEventListener("input", function () { byHand = alias.value !== ""; });
    label.addEventListener("input", function () {
      if (byHand) return;
      var ticket = ++pending;
      var url = new URL(label.dataset.aliasUrl, window.location.href);
      url.searchParams.set("label", label.value);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data && ticket === pending && !byHand) alias.value = data.alias; })
        .catch(function () {});
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
