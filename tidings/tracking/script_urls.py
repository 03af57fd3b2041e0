"""Routes of the tracker scripts (tidings.tracking.scripts): public, outside any /w/ workspace page."""

from django.urls import path

from tidings.tracking import scripts

app_name = "tracking_scripts"

urlpatterns = [
    path("t.js", scripts.tracker_js, name="tracker"),
    path("m/<slug:mautic_workspace>/mtc.js", scripts.mautic_js, name="mautic_tracker"),
]
