// The data table (web/_datatable.html): select rows, the page or every matching row; close menus.
// Loaded once however many tables a page has; works on rows htmx adds later ("load more").
(function () {
  if (window.tidingsDataTable) { return; }
  window.tidingsDataTable = true;

  function table(element) { return element.closest("[data-dt]"); }
  function rows(dt) { return Array.prototype.slice.call(dt.querySelectorAll("input[data-dt-row]")); }

  function setScope(dt, matching) {
    var scope = dt.querySelector("[data-dt-scope]");
    if (scope) { scope.value = matching ? "matching" : "page"; }
    var select = dt.querySelector("[data-dt-select-matching]");
    var clear = dt.querySelector("[data-dt-clear]");
    var text = dt.querySelector("[data-dt-matching-text]");
    if (select) { select.hidden = matching; }
    if (clear) { clear.hidden = !matching; }
    if (text) {
      var checked = rows(dt).filter(function (box) { return box.checked; }).length;
      text.textContent = matching
        ? "All " + dt.getAttribute("data-dt-total-label") + " matching contacts are selected: actions apply to every one."
        : "All " + checked + " on this page are selected.";
    }
  }

  function refresh(dt) {
    var boxes = rows(dt);
    var checked = boxes.filter(function (box) { return box.checked; });
    boxes.forEach(function (box) {
      var row = box.closest("tr");
      if (row) { row.classList.toggle("dt-checked", box.checked); }
    });
    var page = dt.querySelector("input[data-dt-page]");
    if (page) {
      page.checked = boxes.length > 0 && checked.length === boxes.length;
      page.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
    var selected = dt.querySelector("[data-dt-selected]");
    if (selected) {
      selected.hidden = checked.length === 0;
      selected.textContent = checked.length + " selected";
    }
    var banner = dt.querySelector("[data-dt-matching]");
    var total = parseInt(dt.getAttribute("data-dt-total"), 10);
    var all = boxes.length > 0 && checked.length === boxes.length;
    if (banner) { banner.hidden = !(all && total > boxes.length); }
    if (!all) { setScope(dt, false); } else if (banner && !banner.hidden) {
      var scope = dt.querySelector("[data-dt-scope]");
      setScope(dt, scope && scope.value === "matching");
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) { return; }
    var dt = table(target);
    if (!dt) { return; }
    if (target.hasAttribute("data-dt-page")) {
      rows(dt).forEach(function (box) { box.checked = target.checked; });
      refresh(dt);
    } else if (target.hasAttribute("data-dt-row")) {
      refresh(dt);
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    var dt = table(target);
    if (dt && target.closest("[data-dt-select-matching]")) { setScope(dt, true); return; }
    if (dt && target.closest("[data-dt-clear]")) {
      rows(dt).forEach(function (box) { box.checked = false; });
      refresh(dt);
      return;
    }
    // A click outside an open menu closes it, as a menu does.
    document.querySelectorAll(".dt-menu[open]").forEach(function (menu) {
      if (!menu.contains(target)) { menu.removeAttribute("open"); }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll(".dt-menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) { summary.focus(); }
    });
  });

  // Rows added by htmx ("load more") join the selection state.
  document.addEventListener("htmx:afterSwap", function (event) {
    var dt = event.target instanceof Element ? table(event.target) : null;
    if (dt) { refresh(dt); }
  });
})();
