// The segment builder: draws the filters (groups that nest, conditions of each kind) from the JSON of the
// form's "definition" field and writes the JSON back on every change. No dependency, no inline script
// (the CSP). Without JavaScript the member edits the JSON itself; with it the JSON editor is hidden.
// Each change fires "segment-changed" on <body>: the preview (htmx) posts the form and shows the live
// count. Errors keyed by a filter's path ("filters.2.value") are shown beside that filter.
(function () {
  "use strict";

  var NO_VALUE = ["empty", "not_empty", "today", "yesterday"];
  var DAYS = ["in_last_days", "more_than_days_ago", "in_next_days"];
  var LISTS = ["in", "not_in"];
  var KINDS = [["field", "A field"], ["tag", "Tags"], ["segment", "Another segment"], ["dnc", "Do not contact"], ["event", "Activity"],
    ["traffic", "Visit source or device"], ["consent", "Consent"]];
  var MAX_DATA = 5;  // data conditions of one event filter (definition.py)

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { node.textContent = value; } else { node.setAttribute(name, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function idFor(path, role) { return "seg-" + (path || "root").replace(/\./g, "-") + "-" + role; }

  function labelled(path, role, text, control, hideLabel) {
    control.id = idFor(path, role);
    return el("p", {"class": "seg-control"}, [el("label", {"for": control.id, "class": hideLabel ? "visually-hidden" : null, text: text}), control]);
  }

  function select(options, current, multiple) {
    var node = el("select", {multiple: !!multiple});
    options.forEach(function (option) {
      var selected = multiple ? (current || []).map(String).indexOf(String(option[0])) >= 0 : String(option[0]) === String(current);
      node.appendChild(el("option", {value: option[0], selected: selected, disabled: option[2] ? true : null, text: option[1]}));
    });
    return node;
  }

  function Builder(root) {
    this.root = root;
    this.input = document.getElementById(root.getAttribute("data-input"));
    this.schema = JSON.parse(root.getAttribute("data-schema"));
    this.tree = JSON.parse(this.input.value || "{\"match\": \"all\", \"filters\": []}");
    if (!this.tree || typeof this.tree !== "object" || Array.isArray(this.tree) || !Array.isArray(this.tree.filters || [])) {
      throw new Error("not a group");
    }
    this.tree.filters = this.tree.filters || [];
    this.errors = JSON.parse(root.getAttribute("data-errors") || "{}");
    // Other domains' memberships (a campaign) are kinds too, with their operators' labels.
    var self = this;
    this.kinds = KINDS.concat((this.schema.memberships || []).map(function (m) {
      self.schema.operators[m.kind] = m.operators;
      return [m.kind, m.label];
    }));
  }

  Builder.prototype.fieldsOf = function (object) { return this.schema.fields[object] || []; };

  Builder.prototype.capOf = function (node) {
    var alias = node.field;
    return this.fieldsOf(node.object || "contact").filter(function (f) { return f.alias === alias; })[0] || null;
  };

  Builder.prototype.newCondition = function () {
    var first = this.fieldsOf("contact").filter(function (f) { return f.operators.length; })[0];
    return {kind: "field", object: "contact", field: first ? first.alias : "", operator: first ? first.operators[0] : "equals", value: ""};
  };

  Builder.prototype.changed = function (redraw) {
    this.input.value = JSON.stringify(this.tree, null, 1);
    if (redraw) { this.render(); }
    document.body.dispatchEvent(new CustomEvent("segment-changed"));
  };

  Builder.prototype.render = function () {
    var focused = document.activeElement && document.activeElement.id;
    this.root.textContent = "";
    this.root.appendChild(this.group(this.tree, "", 1));
    this.showErrors(this.errors);
    if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
  };

  Builder.prototype.group = function (group, path, depth) {
    var self = this;
    var match = select([["all", "all of these filters"], ["any", "any of these filters"]], group.match || "all");
    match.addEventListener("change", function () { group.match = match.value; self.changed(false); });
    var list = el("ol", {"class": "seg-nodes"});
    group.filters.forEach(function (node, index) {
      var childPath = (path ? path + "." : "") + "filters." + index;
      var isGroup = node && typeof node === "object" && (node.kind === "group" || (!node.kind && Array.isArray(node.filters)));
      var item = isGroup ? self.group(node, childPath, depth + 1) : self.condition(node, childPath, group, index);
      if (isGroup) {
        var remove = el("button", {type: "button", "class": "secondary seg-remove", text: "Remove group"});
        remove.addEventListener("click", function () { group.filters.splice(index, 1); self.changed(true); });
        item.querySelector(".seg-actions").appendChild(remove);
      }
      list.appendChild(el("li", {}, [item]));
    });
    var addFilter = el("button", {type: "button", "class": "secondary", id: idFor(path, "add"), text: "Add filter"});
    addFilter.addEventListener("click", function () { group.filters.push(self.newCondition()); self.changed(true); });
    var actions = el("p", {"class": "seg-actions"}, [addFilter]);
    if (depth < this.schema.max_depth) {
      var addGroup = el("button", {type: "button", "class": "secondary", id: idFor(path, "addgroup"), text: "Add group"});
      addGroup.addEventListener("click", function () {
        group.filters.push({kind: "group", match: "any", filters: [self.newCondition()]});
        self.changed(true);
      });
      actions.appendChild(addGroup);
    }
    var legend = path ? "Group" : "Contacts who match";
    var box = el("fieldset", {"class": "seg-group" + (path ? " seg-nested" : ""), "data-path": path}, [
      el("legend", {text: legend}),
      labelled(path, "match", "Match", match),
      group.filters.length ? list : el("p", {"class": "muted", text: path ? "An empty group matches nobody." : "No filter yet: the segment has no members. Add a filter."}),
      el("p", {"class": "seg-error", "data-error-for": path, hidden: true}),
      actions
    ]);
    return box;
  };

  Builder.prototype.condition = function (node, path, parent, index) {
    var self = this;
    var number = path.split(".").filter(function (part, i, parts) { return parts[i - 1] === "filters"; })
      .map(function (n) { return Number(n) + 1; }).join(".");
    var kinds = this.kinds.map(function (k) { return [k[0], k[1]]; });
    if (this.kinds.map(function (k) { return k[0]; }).indexOf(node.kind) < 0) { kinds.push([node.kind || "", "(not editable here)"]); }
    var kind = select(kinds, node.kind);
    kind.addEventListener("change", function () {
      parent.filters[index] = self.defaults(kind.value);
      self.changed(true);
    });
    var controls = [labelled(path, "kind", "Filter " + number + " on", kind)];
    var body = {field: this.fieldControls, tag: this.tagControls, segment: this.segmentControls, dnc: this.dncControls, event: this.eventControls,
      traffic: this.trafficControls, consent: this.consentControls}[node.kind] || (this.membership(node.kind) ? this.membershipControls : null);
    if (body) { controls = controls.concat(body.call(this, node, path)); }
    var remove = el("button", {type: "button", "class": "secondary seg-remove", id: idFor(path, "remove"), text: "Remove"});
    remove.setAttribute("aria-label", "Remove filter " + number);
    remove.addEventListener("click", function () { parent.filters.splice(index, 1); self.changed(true); });
    controls.push(el("p", {"class": "seg-control seg-remove-wrap"}, [remove]));
    return el("div", {"class": "seg-condition", "data-path": path}, [
      el("div", {"class": "seg-row"}, controls),
      node.kind === "field" && this.capOf(node) && this.capOf(node).note
        ? el("p", {"class": "help seg-note", text: "Stored " + this.capOf(node).note + ": only these comparisons are possible."}) : null,
      node.kind === "event" ? this.dataControls(node, path) : null,
      el("p", {"class": "seg-error", "data-error-for": path, hidden: true})
    ]);
  };

  Builder.prototype.defaults = function (kind) {
    if (kind === "tag") { return {kind: "tag", operator: "in", value: []}; }
    if (kind === "segment") { return {kind: "segment", operator: "in", value: []}; }
    if (kind === "dnc") { return {kind: "dnc", operator: "is", channel: this.schema.dnc.channels[0], reason: ""}; }
    if (kind === "event") { return {kind: "event", event: this.schema.events[0] || "", operator: "has", min_count: 1, within_days: 30, data: {}}; }
    if (kind === "traffic") { return {kind: "traffic", attribute: "utm_source", comparison: "equals", value: "", operator: "has", min_count: 1, within_days: 30}; }
    if (kind === "consent") { return {kind: "consent", purpose: (this.schema.purposes[0] || {}).key || "", operator: "has"}; }
    if (this.membership(kind)) { return {kind: kind, operator: "in", value: []}; }
    return this.newCondition();
  };

  Builder.prototype.operatorSelect = function (kind, allowed, node, path, redraw) {
    var self = this, labels = this.schema.operators[kind];
    var options = allowed.map(function (op) { return [op, labels[op] || op]; });
    if (allowed.indexOf(node.operator) < 0) { options.unshift([node.operator || "", "(choose)"]); }
    var control = select(options, node.operator);
    control.addEventListener("change", function () {
      var before = self.valueShape(node);
      node.operator = control.value;
      if (self.valueShape(node) !== before) { self.resetValue(node); }
      self.changed(redraw);
    });
    return labelled(path, "operator", "Comparison", control, true);
  };

  Builder.prototype.valueShape = function (node) {
    var op = node.operator;
    if (NO_VALUE.indexOf(op) >= 0) { return "none"; }
    if (DAYS.indexOf(op) >= 0) { return "days"; }
    if (LISTS.indexOf(op) >= 0) { return "list"; }
    if (op === "between") { return "between"; }
    if (op === "anniversary") { return "monthday"; }
    var cap = this.capOf(node);
    return cap ? cap.type : "text";
  };

  Builder.prototype.resetValue = function (node) {
    var shape = this.valueShape(node);
    delete node.value;
    if (shape === "none") { return; }
    node.value = shape === "list" ? [] : shape === "between" ? ["", ""] : shape === "days" ? 7 : shape === "boolean" ? true : "";
  };

  Builder.prototype.fieldControls = function (node, path) {
    var self = this;
    var object = select([["contact", "Contact"], ["company", "Company"]], node.object || "contact");
    object.addEventListener("change", function () {
      node.object = object.value;
      var first = self.fieldsOf(node.object).filter(function (f) { return f.operators.length; })[0];
      node.field = first ? first.alias : "";
      node.operator = first ? first.operators[0] : "";
      self.resetValue(node);
      self.changed(true);
    });
    var fields = this.fieldsOf(node.object || "contact").map(function (f) {
      return [f.alias, f.operators.length ? f.label : f.label + " (encrypted: cannot be filtered)", !f.operators.length];
    });
    var cap = this.capOf(node);
    if (!cap) { fields.unshift([node.field || "", (node.field || "") + " (unknown field)"]); }
    var field = select(fields, node.field);
    field.addEventListener("change", function () {
      var before = self.valueShape(node);
      node.field = field.value;
      var now = self.capOf(node);
      if (now && now.operators.indexOf(node.operator) < 0) { node.operator = now.operators[0]; }
      if (self.valueShape(node) !== before) { self.resetValue(node); }
      self.changed(true);
    });
    var controls = [labelled(path, "object", "Of the", object, true), labelled(path, "field", "Field", field, true)];
    if (cap) { controls.push(this.operatorSelect("field", cap.operators, node, path, true)); }
    return controls.concat(this.valueControls(node, path, cap));
  };

  Builder.prototype.valueControls = function (node, path, cap) {
    var self = this, shape = this.valueShape(node), type = cap ? cap.type : "text";
    var typed = function (text) {
      if (type === "number" && text !== "" && !isNaN(Number(text))) { return Number(text); }
      return text;
    };
    var inputType = type === "number" ? "number" : type === "date" ? "date" : type === "datetime" ? "datetime-local" : "text";
    if (shape === "none") { return []; }
    if (shape === "days") {
      var days = el("input", {type: "number", min: "0", step: "1", "class": "seg-days", value: node.value === undefined ? "" : node.value});
      days.addEventListener("input", function () { node.value = /^\d+$/.test(days.value) ? Number(days.value) : days.value; self.changed(false); });
      return [labelled(path, "value", "Days", days)];
    }
    if (cap && cap.choices && (shape === "list" || shape === type)) {
      // A reference field (a contact's stage): pick from the workspace's own, never type an id.
      var offered = cap.choices.map(function (c) { return [c.id, c.name]; });
      var many = shape === "list";
      var known = offered.map(function (o) { return String(o[0]); });
      (many ? (Array.isArray(node.value) ? node.value : []) : [node.value]).forEach(function (v) {
        if (v !== undefined && v !== null && v !== "" && known.indexOf(String(v)) < 0) { offered.unshift([v, "#" + v + " (not a stage of this workspace)"]); }
      });
      if (!many) { offered.unshift(["", "(choose)"]); }
      var chooser = select(offered, node.value, many);
      chooser.addEventListener("change", function () {
        var picked = Array.prototype.filter.call(chooser.options, function (o) { return o.selected && o.value !== ""; }).map(function (o) { return Number(o.value); });
        node.value = many ? picked : (picked.length ? picked[0] : "");
        self.changed(false);
      });
      return [labelled(path, "value", many ? "Values" : "Value", chooser, true)];
    }
    if (shape === "list") {
      var items = el("textarea", {rows: "2", "class": "seg-list", "aria-describedby": idFor(path, "listhelp")});
      items.value = (Array.isArray(node.value) ? node.value : []).join("\n");
      items.addEventListener("input", function () {
        node.value = items.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean).map(typed);
        self.changed(false);
      });
      return [labelled(path, "value", "Values", items, true), el("span", {"class": "helptext", id: idFor(path, "listhelp"), text: "One value per line."})];
    }
    if (shape === "between") {
      var pair = Array.isArray(node.value) ? node.value : ["", ""];
      var low = el("input", {type: inputType, value: pair[0] === undefined ? "" : pair[0]});
      var high = el("input", {type: inputType, value: pair[1] === undefined ? "" : pair[1]});
      var update = function () { node.value = [typed(low.value), typed(high.value)]; self.changed(false); };
      low.addEventListener("input", update);
      high.addEventListener("input", update);
      return [labelled(path, "low", "From", low, true), labelled(path, "high", "and", high)];
    }
    if (shape === "boolean") {
      var yes = select([["true", "Yes"], ["false", "No"]], String(node.value !== false));
      yes.addEventListener("change", function () { node.value = yes.value === "true"; self.changed(false); });
      return [labelled(path, "value", "Value", yes, true)];
    }
    var input = el("input", {type: shape === "monthday" ? "text" : inputType, value: node.value === undefined || node.value === null ? "" : node.value,
      placeholder: shape === "monthday" ? "MM-DD" : null, "class": "seg-value"});
    input.addEventListener("input", function () { node.value = typed(input.value); self.changed(false); });
    return [labelled(path, "value", "Value", input, true)];
  };

  Builder.prototype.pickerControls = function (kind, node, path, items, empty) {
    var self = this;
    var ops = Object.keys(this.schema.operators[kind]);
    var controls = [this.operatorSelect(kind, ops, node, path, false)];
    if (!items.length) { return controls.concat([el("p", {"class": "muted seg-control", text: empty})]); }
    var picker = select(items.map(function (item) { return [item.id, item.name]; }), node.value, true);
    picker.setAttribute("size", String(Math.min(5, Math.max(2, items.length))));
    picker.addEventListener("change", function () {
      node.value = Array.prototype.filter.call(picker.options, function (o) { return o.selected; }).map(function (o) { return Number(o.value); });
      self.changed(false);
    });
    var membership = this.membership(kind);
    return controls.concat([labelled(path, "value", kind === "tag" ? "Tags" : (membership ? membership.picker : "Segments"), picker, true)]);
  };

  // Another domain's membership (a campaign): schema.memberships, drawn as a picker like segments.
  Builder.prototype.membership = function (kind) {
    return (this.schema.memberships || []).filter(function (m) { return m.kind === kind; })[0] || null;
  };

  Builder.prototype.membershipControls = function (node, path) {
    var membership = this.membership(node.kind);
    return this.pickerControls(node.kind, node, path, membership.items, membership.empty);
  };

  Builder.prototype.tagControls = function (node, path) {
    return this.pickerControls("tag", node, path, this.schema.tags, "No tag yet: tag contacts first.");
  };

  Builder.prototype.segmentControls = function (node, path) {
    return this.pickerControls("segment", node, path, this.schema.segments, "No other segment yet.");
  };

  Builder.prototype.dncControls = function (node, path) {
    var self = this;
    var channel = select(this.schema.dnc.channels.map(function (c) { return [c, c]; }), node.channel || "email");
    channel.addEventListener("change", function () { node.channel = channel.value; self.changed(false); });
    var reason = select([["", "for any reason"]].concat(this.schema.dnc.reasons.map(function (r) { return [r, r]; })), node.reason || "");
    reason.addEventListener("change", function () { node.reason = reason.value; self.changed(false); });
    return [this.operatorSelect("dnc", Object.keys(this.schema.operators.dnc), node, path, false),
      labelled(path, "channel", "Channel", channel), labelled(path, "reason", "Reason", reason, true)];
  };

  Builder.prototype.eventControls = function (node, path) {
    var self = this;
    var event = select(this.schema.events.map(function (e) { return [e, e]; }), node.event);
    event.addEventListener("change", function () { node.event = event.value; node.data = {}; self.changed(true); });
    return [this.operatorSelect("event", Object.keys(this.schema.operators.event), node, path, false),
      labelled(path, "event", "Event", event, true)].concat(this.windowControls(node, path));
  };

  // The count and window shared by activity and visit filters: at least N times, in the last N days (empty: ever).
  Builder.prototype.windowControls = function (node, path) {
    var self = this;
    var count = el("input", {type: "number", min: "1", step: "1", "class": "seg-days", value: node.min_count || 1});
    count.addEventListener("input", function () { node.min_count = /^\d+$/.test(count.value) ? Number(count.value) : count.value; self.changed(false); });
    var within = el("input", {type: "number", min: "0", step: "1", "class": "seg-days", value: node.within_days === null || node.within_days === undefined ? "" : node.within_days});
    within.addEventListener("input", function () {
      node.within_days = within.value === "" ? null : /^\d+$/.test(within.value) ? Number(within.value) : within.value;
      self.changed(false);
    });
    return [labelled(path, "count", "At least (times)", count), labelled(path, "within", "In the last (days; empty: ever)", within)];
  };

  // An activity filter's conditions on its event's data ("url contains /pricing", "asset id is 4"): one row each.
  Builder.prototype.dataControls = function (node, path) {
    var self = this, offered = (this.schema.event_data || {})[node.event] || [];
    if (!offered.length) { return null; }
    node.data = node.data && typeof node.data === "object" && !Array.isArray(node.data) ? node.data : {};
    var rows = el("ul", {"class": "seg-data"});
    var kindOf = function (lookup) { return (offered.filter(function (o) { return o[0] === lookup; })[0] || [])[2]; };
    Object.keys(node.data).forEach(function (lookup, index) {
      var rowPath = path + ".data." + index;
      var options = offered.map(function (o) { return [o[0], o[1]]; });
      if (!kindOf(lookup)) { options.unshift([lookup, lookup + " (not available)"]); }
      var which = select(options, lookup);
      var value = el("input", {type: kindOf(lookup) === "int" ? "number" : "text", "class": "seg-value", value: node.data[lookup]});
      var typed = function (lk, text) { return kindOf(lk) === "int" && /^-?\d+$/.test(text) ? Number(text) : text; };
      which.addEventListener("change", function () {
        var rebuilt = {};
        Object.keys(node.data).forEach(function (key) {
          if (key === lookup) { rebuilt[which.value] = typed(which.value, String(node.data[key])); } else { rebuilt[key] = node.data[key]; }
        });
        node.data = rebuilt;
        self.changed(true);
      });
      value.addEventListener("input", function () { node.data[lookup] = typed(lookup, value.value); self.changed(false); });
      var remove = el("button", {type: "button", "class": "secondary", id: idFor(rowPath, "remove"), text: "Remove condition"});
      remove.addEventListener("click", function () { delete node.data[lookup]; self.changed(true); });
      rows.appendChild(el("li", {"class": "seg-row"}, [labelled(rowPath, "key", "Where", which), labelled(rowPath, "value", "Value", value, true),
        el("p", {"class": "seg-control"}, [remove])]));
    });
    var unused = offered.filter(function (o) { return !(o[0] in node.data); });
    var add = el("button", {type: "button", "class": "secondary", id: idFor(path, "adddata"), text: "Add a condition on the " + node.event});
    add.addEventListener("click", function () { node.data[unused[0][0]] = unused[0][2] === "int" ? 0 : ""; self.changed(true); });
    return el("div", {"class": "seg-data-conditions"}, [Object.keys(node.data).length ? rows : null,
      unused.length && Object.keys(node.data).length < MAX_DATA ? el("p", {"class": "seg-actions"}, [add]) : null]);
  };

  Builder.prototype.trafficControls = function (node, path) {
    var self = this, traffic = this.schema.traffic;
    var attribute = select(traffic.attributes, node.attribute);
    attribute.addEventListener("change", function () { node.attribute = attribute.value; self.changed(false); });
    var comparisons = Object.keys(traffic.comparisons).map(function (c) { return [c, traffic.comparisons[c]]; });
    var comparison = select(comparisons, node.comparison || "equals");
    comparison.addEventListener("change", function () {
      var was = node.comparison;
      node.comparison = comparison.value;
      if (node.comparison === "not_empty") { delete node.value; } else if (node.comparison === "in") {
        node.value = was === "in" ? node.value : (node.value ? [node.value] : []);
      } else if (Array.isArray(node.value) || node.value === undefined) { node.value = Array.isArray(node.value) ? (node.value[0] || "") : ""; }
      self.changed(true);
    });
    var controls = [this.operatorSelect("traffic", Object.keys(this.schema.operators.traffic), node, path, false),
      labelled(path, "attribute", "Attribute", attribute, true), labelled(path, "comparison", "Comparison", comparison, true)];
    if (node.comparison === "in") {
      var items = el("textarea", {rows: "2", "class": "seg-list", "aria-describedby": idFor(path, "listhelp")});
      items.value = (Array.isArray(node.value) ? node.value : []).join("\n");
      items.addEventListener("input", function () {
        node.value = items.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
        self.changed(false);
      });
      controls.push(labelled(path, "value", "Values", items, true), el("span", {"class": "helptext", id: idFor(path, "listhelp"), text: "One value per line."}));
    } else if (node.comparison !== "not_empty") {
      var input = el("input", {type: "text", "class": "seg-value", value: node.value === undefined || node.value === null ? "" : node.value});
      input.addEventListener("input", function () { node.value = input.value; self.changed(false); });
      controls.push(labelled(path, "value", "Value", input, true));
    }
    return controls.concat(this.windowControls(node, path));
  };

  Builder.prototype.consentControls = function (node, path) {
    var self = this;
    var purposes = this.schema.purposes.map(function (p) { return [p.key, p.name]; });
    if (this.schema.purposes.map(function (p) { return p.key; }).indexOf(node.purpose) < 0) { purposes.unshift([node.purpose || "", "(choose a purpose)"]); }
    var purpose = select(purposes, node.purpose);
    purpose.addEventListener("change", function () { node.purpose = purpose.value; self.changed(false); });
    return [this.operatorSelect("consent", Object.keys(this.schema.operators.consent), node, path, false),
      labelled(path, "purpose", "Purpose", purpose, true)];
  };

  // Put each error beside the deepest filter or group its path names; an error of the whole goes at the top.
  Builder.prototype.showErrors = function (errors) {
    var root = this.root;
    this.errors = errors || {};
    Array.prototype.forEach.call(root.querySelectorAll(".seg-error"), function (p) { p.textContent = ""; p.hidden = true; });
    Array.prototype.forEach.call(root.querySelectorAll(".seg-condition, .seg-group"), function (box) { box.classList.remove("has-error"); });
    Object.keys(this.errors).forEach(function (key) {
      var parts = key === "definition" ? [] : key.split(".");
      var target = null;
      while (!target) {
        var path = parts.join(".");
        target = root.querySelector(".seg-error[data-error-for=\"" + path + "\"]");
        if (!parts.length) { break; }
        parts.pop();
      }
      if (!target) { return; }
      target.textContent = (target.textContent ? target.textContent + " " : "") + errors[key].join(" ");
      target.hidden = false;
      target.parentNode.classList.add("has-error");
    });
  };

  function start() {
    var root = document.querySelector("[data-segment-builder]");
    if (!root) { return; }
    var builder;
    try { builder = new Builder(root); } catch (error) { return; }  // not a group: the JSON editor stays
    var json = document.querySelector("[data-segment-json]");
    if (json) { json.hidden = true; }
    root.hidden = false;
    builder.render();
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var preview = event.target.querySelector && event.target.querySelector("[data-preview-errors]");
      if (preview) { builder.showErrors(JSON.parse(preview.getAttribute("data-preview-errors") || "{}")); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
