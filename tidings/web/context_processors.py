from django.urls import NoReverseMatch, reverse

from tidings.navigation import visible_items
from tidings.tenancy.selectors import workspaces_for_user


def shell(request):
    """Give every page the workspace switcher and the navigation the user may see."""
    principal = getattr(request, "principal", None)
    context = {"current_workspace": getattr(request, "workspace", None), "principal": principal}
    if principal is not None:
        slug = principal.workspace.slug
        for section in ("main", "settings"):
            items = []
            for item in visible_items(principal, section):
                try:
                    url = reverse(item.url_name, kwargs={"workspace_slug": slug})
                except NoReverseMatch:
                    continue
                items.append(
                    {
                        "label": item.label,
                        "url": url,
                        "active": request.path.startswith(url)
                        if url.rstrip("/") != f"/w/{slug}"
                        else request.path == url,
                    }
                )
            context[f"nav_{section}"] = items
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        context["my_workspaces"] = workspaces_for_user(request.user)
    return context
