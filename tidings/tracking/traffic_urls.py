from django.urls import path

from tidings.tracking import traffic_views

app_name = "tracking_traffic"

urlpatterns = [
    path("w/<slug:workspace_slug>/tracking/traffic/", traffic_views.traffic_index, name="index"),
    path("w/<slug:workspace_slug>/tracking/sites/<int:site_id>/traffic/", traffic_views.site_traffic, name="site"),
]
