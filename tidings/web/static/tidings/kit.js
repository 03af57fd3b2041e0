// The UI kit's behaviour: phone menu, collapsible sidebar, toasts, confirm dialogs, copy buttons.
// Loaded in <head> without defer so the page is marked as scripted before its first paint; every
// listener is delegated from document, so nothing here waits for the DOM. No inline script anywhere:
// the CSP allows scripts from 'self' only.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var COLLAPSED = "tidings.nav-collapsed";
  try {
    if (window.localStorage.getItem(COLLAPSED) === "1") { root.classList.add("nav-collapsed"); }
  } catch (error) { /* storage refused (private mode): the sidebar starts expanded */ }

  function setMenu(open) {
    root.classList.toggle("nav-open", open);
    var toggle = document.querySelector("[data-sidebar-toggle]");
    if (toggle) { toggle.setAttribute("aria-expanded", open ? "true" : "false"); }
    if (open) {
      var first = document.querySelector("#sidebar a");
      if (first) { first.focus(); }
    }
  }

  function closeToast(toast) {
    if (toast && toast.parentNode) { toast.parentNode.removeChild(toast); }
  }

  function copy(button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) { return; }
    var text = target.value !== undefined ? target.value : target.textContent.trim();
    var done = function () {
      var label = button.querySelector("[data-copy-label]") || button;
      var before = label.textContent;
      label.textContent = "Copied";
      window.setTimeout(function () { label.textContent = before; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      if (document.execCommand("copy")) { done(); }
    }
  }

  function confirmSubmit(form) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") { return false; }
    dialog.querySelector("[data-confirm-title]").textContent = form.getAttribute("data-confirm-title") || "Are you sure?";
    dialog.querySelector("[data-confirm-text]").textContent = form.getAttribute("data-confirm") || "";
    dialog.querySelector("[data-confirm-button]").textContent = form.getAttribute("data-confirm-button") || "Confirm";
    dialog.returnValue = "";
    dialog.onclose = function () {
      dialog.onclose = null;
      if (dialog.returnValue !== "confirm") { return; }
      var flag = document.createElement("input");
      flag.type = "hidden";
      flag.name = "confirmed";
      flag.value = "1";
      form.appendChild(flag);
      form.setAttribute("data-confirmed", "1");
      if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
    };
    dialog.showModal();
    return true;
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    if (!target) { return; }
    if (target.closest("[data-sidebar-toggle]")) {
      setMenu(!root.classList.contains("nav-open"));
      return;
    }
    var collapse = target.closest("[data-sidebar-collapse]");
    if (collapse) {
      var collapsed = root.classList.toggle("nav-collapsed");
      collapse.setAttribute("aria-pressed", collapsed ? "true" : "false");
      try { window.localStorage.setItem(COLLAPSED, collapsed ? "1" : "0"); } catch (error) { /* not kept */ }
      return;
    }
    if (target.closest("[data-toast-close]")) {
      closeToast(target.closest("[data-toast]"));
      return;
    }
    var copyButton = target.closest("[data-copy]");
    if (copyButton) {
      event.preventDefault();
      copy(copyButton);
      return;
    }
    // A click outside the open phone menu closes it.
    if (root.classList.contains("nav-open") && !target.closest("#sidebar")) { setMenu(false); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && root.classList.contains("nav-open")) {
      setMenu(false);
      var toggle = document.querySelector("[data-sidebar-toggle]");
      if (toggle) { toggle.focus(); }
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm") || form.getAttribute("data-confirmed") === "1") { return; }
    // Stopped here, in the capture phase, so that htmx does not send the request before the answer.
    if (confirmSubmit(form)) { event.preventDefault(); event.stopPropagation(); }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    var collapse = document.querySelector("[data-sidebar-collapse]");
    if (collapse) { collapse.setAttribute("aria-pressed", root.classList.contains("nav-collapsed") ? "true" : "false"); }
    // Successes and notes leave by themselves; errors and warnings stay until dismissed.
    Array.prototype.forEach.call(document.querySelectorAll("[data-toast].success, [data-toast].info"), function (toast) {
      window.setTimeout(function () { closeToast(toast); }, 8000);
    });
  });
})();
