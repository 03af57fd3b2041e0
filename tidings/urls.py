from django.urls import include, path

urlpatterns = [
    path("", include("tidings.accounts.urls")),
    path("", include("tidings.web.audit_urls")),
    path("", include("tidings.api.urls")),
    path("", include("tidings.mautic_compat.urls")),
    path("", include("tidings.tracking.script_urls")),
    path("", include("tidings.contacts.urls")),
    path("", include("tidings.segments.urls")),
    path("", include("tidings.consent.urls")),
    path("", include("tidings.privacy_centre.urls")),
    path("", include("tidings.policies.urls")),
    path("", include("tidings.pages.urls")),
    path("", include("tidings.web.public_urls")),
    path("", include("tidings.tracking.urls")),
    path("", include("tidings.tracking.traffic_urls")),
    path("", include("tidings.forms.urls")),
    path("", include("tidings.assets.urls")),
    path("", include("tidings.web.urls")),
]
