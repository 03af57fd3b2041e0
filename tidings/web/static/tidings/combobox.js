// Autocomplete inputs as the ARIA combobox pattern (WAI-ARIA APG "list autocomplete").
// An input with data-combobox asks the server for <option>s with htmx (forms.suggest_attrs): they land
// in its <datalist>, and this script shows them as a listbox it owns: ArrowDown/ArrowUp move,
// Enter or a click picks, Escape and Tab close. The datalist link is removed so the browser's own
// popup does not compete; without this script that popup is the fallback.
(function () {
  "use strict";

  function listboxOf(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function options(input) {
    var listbox = listboxOf(input);
    return listbox ? Array.prototype.slice.call(listbox.querySelectorAll("[role=option]")) : [];
  }

  function setOpen(input, open) {
    var listbox = listboxOf(input);
    if (!listbox) { return; }
    open = open && options(input).length > 0;
    listbox.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) { activate(input, null); }
  }

  function activate(input, option) {
    options(input).forEach(function (item) { item.setAttribute("aria-selected", item === option ? "true" : "false"); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      if (option.scrollIntoView) { option.scrollIntoView({ block: "nearest" }); }
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function pick(input, option) {
    input.value = option.getAttribute("data-value");
    setOpen(input, false);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function enhance(input) {
    if (input.getAttribute("role") === "combobox") { return; }
    var datalistId = input.getAttribute("list");
    if (!datalistId || !input.id) { return; }
    var listbox = document.createElement("ul");
    listbox.id = input.id + "-listbox";
    listbox.className = "combobox-list";
    listbox.setAttribute("role", "listbox");
    var label = input.labels && input.labels[0];
    listbox.setAttribute("aria-label", label ? label.textContent.trim() : "Suggestions");
    listbox.hidden = true;
    input.insertAdjacentElement("afterend", listbox);
    if (input.parentElement) { input.parentElement.classList.add("combobox"); }
    input.setAttribute("data-combobox-options", datalistId);
    input.removeAttribute("list");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
  }

  function enhanceAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    Array.prototype.forEach.call(scope.querySelectorAll("input[data-combobox]"), enhance);
  }

  // Copy the options the server sent (into the datalist) to the listbox of the input that asked.
  function fill(input, datalist) {
    var listbox = listboxOf(input);
    if (!listbox) { return; }
    listbox.textContent = "";
    Array.prototype.forEach.call(datalist.querySelectorAll("option"), function (source, index) {
      var item = document.createElement("li");
      item.id = input.id + "-option-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.setAttribute("data-value", source.value);
      item.textContent = source.label || source.value;
      listbox.appendChild(item);
    });
    setOpen(input, document.activeElement === input);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var input = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (input && input.getAttribute && input.getAttribute("role") === "combobox" && event.target.tagName === "DATALIST") {
      fill(input, event.target);
    }
  });

  document.addEventListener("htmx:load", function (event) { enhanceAll(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  } else {
    enhanceAll(document);
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.getAttribute || input.getAttribute("role") !== "combobox") { return; }
    var items = options(input);
    var open = input.getAttribute("aria-expanded") === "true";
    var active = document.getElementById(input.getAttribute("aria-activedescendant") || "");
    var index = items.indexOf(active);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!items.length) { return; }
      event.preventDefault();
      if (!open) { setOpen(input, true); }
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = index < 0 ? (step > 0 ? 0 : items.length - 1) : (index + step + items.length) % items.length;
      activate(input, items[next]);
    } else if (event.key === "Enter" && open && active) {
      event.preventDefault();  // picks the option; a second Enter submits the form
      pick(input, active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      event.stopPropagation();
      setOpen(input, false);
    } else if (event.key === "Tab") {
      setOpen(input, false);
    }
  });

  // mousedown, not click: the input keeps the focus, so the list is still there when the click lands.
  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest(".combobox-list [role=option]");
    if (!option) { return; }
    event.preventDefault();
    var input = document.querySelector("[aria-controls='" + option.parentElement.id + "']");
    if (input) { pick(input, option); }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target.getAttribute && event.target.getAttribute("role") === "combobox") { setOpen(event.target, false); }
  });
}());
