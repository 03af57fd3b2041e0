/* The email builder: GrapesJS with the MJML preset, loaded with the email's MJML (from a JSON script
   element, never parsed as this page's HTML); "Save email" puts the editor's MJML in the form, and the
   server renders, inlines and checks it (tidings.emails.actions.authoring.email_update). */
(function () {
  "use strict";

  function tokenBlocks(editor, fields) {
    var blocks = editor.BlockManager;
    var category = "Personalisation";
    fields.slice(0, 30).forEach(function (alias) {
      blocks.add("token-" + alias, {
        label: "{" + alias + "}",
        category: category,
        attributes: { title: "Insert the contact's " + alias },
        content: "<mj-text>{contactfield=" + alias + "}</mj-text>",
      });
    });
    [["unsubscribe", "Unsubscribe link", '<mj-text><a href="{unsubscribe_url}">Unsubscribe</a></mj-text>'],
     ["webview", "View in browser link", '<mj-text><a href="{webview_url}">View it in your browser</a></mj-text>'],
     ["preferences", "Preferences link", '<mj-text><a href="{preference_url}">Your preferences</a></mj-text>'],
     ["today", "Today's date", "<mj-text>{today}</mj-text>"]].forEach(function (item) {
      blocks.add("token-" + item[0], { label: item[1], category: category, content: item[2] });
    });
  }

  function start() {
    var holder = document.getElementById("gjs");
    if (!holder || typeof window.grapesjs === "undefined") return;
    var source = JSON.parse(document.getElementById("builder-initial").textContent);
    var fields = JSON.parse(document.getElementById("builder-fields").textContent);
    var plugin = window["grapesjs-mjml"];
    var editor = window.grapesjs.init({
      container: holder,
      height: "75vh",
      fromElement: false,
      storageManager: false,
      cssIcons: "",  // the default is a CDN stylesheet; the CSP allows this origin only
      plugins: [plugin && plugin.default ? plugin.default : plugin],
      pluginsOpts: {},
      components: source,
    });
    tokenBlocks(editor, fields);
    editor.on("load", function () {  // GrapesJS' frames have no name; screen readers announce this one
      holder.querySelectorAll("iframe").forEach(function (frame) { frame.setAttribute("title", "Email canvas"); });
    });
    window.tidingsBuilder = editor;  // for the browser tests
    var form = document.getElementById("builder-form");
    if (!form) return;
    form.addEventListener("submit", function () {
      document.getElementById("builder-source").value = editor.getHtml();
      document.getElementById("builder-status").textContent = "Saving…";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
