"""The UI kit's Python side: components every app's pages build on (data tables, charts, dashboard widgets).

It sits in the lowest layer, beside tidings.navigation, so that domain apps can use it; the web
shell (tidings.web) sits above every app. Templates and static files of the components live in
the web app (web/templates/web/_*.html, static/tidings/); they are found by name, not imported.
"""
