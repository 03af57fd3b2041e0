app_name = "mautic_compat"

urlpatterns: list = []
