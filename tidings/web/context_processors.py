from tidings.navigation import banners_for, navigation_for
from tidings.tenancy.selectors import workspaces_for_user


def shell(request):
    """Give every page the workspace switcher and the navigation the user may see, grouped by domain.

    nav_groups feeds the sidebar; nav_main and nav_settings (flat lists of the same entries, the
    Settings group apart) stay for templates and tests written before the groups.
    """
    principal = getattr(request, "principal", None)
    context = {"current_workspace": getattr(request, "workspace", None), "principal": principal}
    if principal is not None:
        groups = navigation_for(principal, request.path)
        context["nav_groups"] = groups
        context["banners"] = banners_for(request)
        context["nav_main"] = [item for group in groups if group["label"] != "Settings" for item in group["items"]]
        context["nav_settings"] = [item for group in groups if group["label"] == "Settings" for item in group["items"]]
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        context["my_workspaces"] = workspaces_for_user(request.user)
    return context
