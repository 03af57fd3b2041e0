from django.urls import path

from tidings.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("w/<slug:workspace_slug>/", views.dashboard, name="dashboard"),
    path("w/<slug:workspace_slug>/ui/", views.kit, name="kit"),
]
