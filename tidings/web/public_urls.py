"""Routes of a workspace's public pages under its base /m/<slug>/ (tidings.web.public_pages)."""

from django.urls import path

from tidings.web import public_pages

app_name = "public_pages"

urlpatterns = [
    path("m/<slug:mautic_workspace>/p/<str:page_slug>", public_pages.landing_page, name="landing_page"),
    path("m/<slug:mautic_workspace>/preferences/<str:token>", public_pages.preference_centre, name="preferences"),
]
