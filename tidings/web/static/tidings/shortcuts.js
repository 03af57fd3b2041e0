// Keyboard shortcuts Mautic users expect: "/" search, "n" new (where the page marks one),
// "g" then a letter to go to a navigation entry (its shortcut in tidings.navigation), "?" the list.
// Keys typed into a field, with a modifier, or while a dialog is open are left alone.
(function () {
  "use strict";
  var pendingGo = false;
  var goTimer = null;

  function typing(target) {
    if (!target || !target.closest) { return false; }
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
  }

  function dialogOpen() {
    return Boolean(document.querySelector("dialog[open]"));
  }

  function cancelGo() {
    pendingGo = false;
    if (goTimer) { window.clearTimeout(goTimer); goTimer = null; }
  }

  function focusSearch() {
    var field = document.querySelector("main [data-shortcut-search]") || document.querySelector("main input[type=search]");
    if (!field) { return false; }
    field.focus();
    if (typeof field.select === "function") { field.select(); }
    return true;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (!link) { return false; }
    window.location.assign(link.getAttribute("href"));
    return true;
  }

  function showHelp() {
    var dialog = document.getElementById("shortcuts-dialog");
    if (!dialog || typeof dialog.showModal !== "function") { return false; }
    dialog.showModal();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target) || dialogOpen()) { cancelGo(); return; }
    var key = event.key;
    var handled = false;
    if (pendingGo) {
      cancelGo();
      handled = /^[a-z]$/.test(key) && follow("#sidebar a[data-shortcut='" + key + "']");
    } else if (key === "g") {
      pendingGo = true;
      goTimer = window.setTimeout(cancelGo, 1500);  // a lone "g" is forgotten after a moment
      handled = true;
    } else if (key === "/") {
      handled = focusSearch();
    } else if (key === "n") {
      handled = follow("main [data-shortcut-new]");
    } else if (key === "?") {
      handled = showHelp();
    }
    if (handled) { event.preventDefault(); }
  });

}());
