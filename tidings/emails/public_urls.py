"""A message's public routes under /m/<workspace>/e/ and the ESPs' tracking webhooks (tidings.emails.public,
tidings.emails.webhooks). The slug kwarg is named public_workspace: the workspace middleware takes these
routes through the entry pipeline's public-page door (tidings.web.entry.PUBLIC_PAGE)."""

from django.urls import path

from tidings.emails import public, webhooks

app_name = "emails_public"

_e = "m/<slug:public_workspace>/e/"

urlpatterns = [
    path(_e + "o/<str:token>.gif", public.open_pixel, name="open"),
    path(_e + "c/<str:token>/<str:link_id>", public.click, name="click"),
    path(_e + "v/<str:token>", public.webview, name="webview"),
    path(_e + "u/<str:token>", public.unsubscribe, name="unsubscribe"),
    path(_e + "hooks/<str:esp>/", webhooks.esp_tracking, name="esp_tracking"),
]
