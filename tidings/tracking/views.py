"""Settings pages of tracking: the workspace's sites, their form, and each site's snippets.

Thin: the form in, tidings.tracking.actions and .selectors do the work. A site named in a URL is
read through a selector scoped to request.workspace; another workspace's id answers 404 exactly
like one that does not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.tracking import actions, selectors
from tidings.tracking.forms import SiteForm
from tidings.ui.confirm import confirmation_required
from tidings.ui.datatable import Column, DataTable
from tidings.validation import form_add_errors

SITE_COLUMNS = [
    Column("name", "Name", required=True),
    Column("domains", "Domains"),
    Column("consent", "Profiling"),
    Column("active", "Status"),
]

SNIPPET = """<script>
(function(w,d,u,k){{w.tidings=w.tidings||function(){{(w.tidings.q=w.tidings.q||[]).push(arguments)}};
var s=d.createElement('script');s.async=1;s.src=u+'/t.js';s.setAttribute('data-site',k);
s.setAttribute('data-endpoint',u);d.head.appendChild(s)}})(window,document,'{base_url}','{site_key}');
tidings('pageview');
</script>"""

MAUTIC_SNIPPET = """<script>
(function(w,d,t,u,n,a,m){{w['MauticTrackingObject']=n;
w[n]=w[n]||function(){{(w[n].q=w[n].q||[]).push(arguments)}},a=d.createElement(t),
m=d.getElementsByTagName(t)[0];a.async=1;a.src=u;m.parentNode.insertBefore(a,m)
}})(window,document,'script','{mautic_base}/mtc.js','mt');
mt('send', 'pageview');
</script>"""


def base_url() -> str:
    """Return the server's public base URL (TIDINGS_BASE_URL), without a trailing slash."""
    return str(settings.TIDINGS_BASE_URL).rstrip("/")


def snippet(site) -> str:
    """Return the native tracker snippet for site (its key and the server's base URL)."""
    return SNIPPET.format(base_url=base_url(), site_key=site.public_key)


def mautic_snippet(workspace_slug: str) -> str:
    """Return Mautic's tracking snippet pointed at the workspace's Mautic-compatible base (/m/<slug>)."""
    return MAUTIC_SNIPPET.format(mautic_base=f"{base_url()}/m/{workspace_slug}")


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"tracking:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _render(request, template: str, context: dict, status: int = 200):
    context["can"] = {"edit": request.principal.can("tracking:edit"), "traffic": request.principal.can("reports:view")}
    return render(request, template, context, status=status)


@require_permission("tracking:view")
def site_list(request, workspace_slug):
    """List the workspace's tracked sites by name."""
    sites = list(selectors.sites()[: selectors.SITES_LIMIT])
    can_edit = request.principal.can("tracking:edit")
    empty = {
        "title": "No sites yet",
        "text": "Register a website to get its tracking snippet: page views and events of visitors who may be "
        "profiled reach contacts' timelines, and every visit is counted cookielessly."
        + ("" if can_edit else " A member who can edit tracking registers sites."),
        "actions": [("New site", _url(request, "site_create"))] if can_edit else [],
    }
    table = DataTable(columns=SITE_COLUMNS, query={}, order="name", rows=sites, id="sites", caption="Sites",
                      noun="sites", row_template="tracking/sites_rows.html", row_actions=can_edit,
                      empty={} if sites else empty)  # fmt: skip
    return _render(request, "tracking/sites_list.html", {"table": table, "rows": sites})


def _save(request, form: SiteForm, site=None):
    try:
        if site is None:
            saved = actions.site_create(principal=request.principal, request=request, **form.values())
        else:
            saved = actions.site_update(site.pk, principal=request.principal, request=request, **form.values())
    except ValidationError as error:
        form_add_errors(form, error)
        return _render(request, "tracking/sites_form.html", {"form": form, "site": site}, status=400)
    messages.success(request, f"Site “{saved.name}” {'created' if site is None else 'saved'}.")
    return redirect(_url(request, "site_detail", site_id=saved.pk))


@require_permission("tracking:edit")
def site_create(request, workspace_slug):
    """The form for a new site; saving creates it with a fresh key and shows its snippet."""
    if request.method == "POST":
        form = SiteForm(request.POST)
        if form.is_valid():
            return _save(request, form)
        return _render(request, "tracking/sites_form.html", {"form": form, "site": None}, status=400)
    return _render(request, "tracking/sites_form.html", {"form": SiteForm(), "site": None})


@found
@require_permission("tracking:edit")
def site_edit(request, workspace_slug, site_id):
    """The form of an existing site."""
    site = selectors.site_get(site_id)
    if request.method == "POST":
        form = SiteForm(request.POST)
        if form.is_valid():
            return _save(request, form, site)
        return _render(request, "tracking/sites_form.html", {"form": form, "site": site}, status=400)
    return _render(request, "tracking/sites_form.html", {"form": SiteForm.for_site(site), "site": site})


@found
@require_permission("tracking:view")
def site_detail(request, workspace_slug, site_id):
    """A site's page: its settings and the snippets to paste into its pages."""
    site = selectors.site_get(site_id)
    context = {
        "site": site,
        "snippet": snippet(site),
        "mautic_snippet": mautic_snippet(request.workspace.slug),
        "base_url": base_url(),
    }
    return _render(request, "tracking/sites_detail.html", context)


@require_POST
@found
@require_permission("tracking:edit")
def site_rotate(request, workspace_slug, site_id):
    """Give the site a new key after a confirmation; pages with the old snippet stop being tracked."""
    site = selectors.site_get(site_id)
    page = confirmation_required(
        request,
        title=f"Rotate the key of “{site.name}”?",
        message="The current key stops working at once: replace the snippet on every page of the site.",
        label="Rotate key",
        back=_url(request, "site_detail", site_id=site.pk),
    )
    if page:
        return page
    actions.site_rotate_key(site.pk, principal=request.principal, request=request)
    messages.success(request, f"“{site.name}” has a new key: update the snippet on its pages.")
    return redirect(_url(request, "site_detail", site_id=site.pk))


@require_POST
@found
@require_permission("tracking:edit")
def site_delete(request, workspace_slug, site_id):
    """Delete a site after a confirmation; its key stops working, recorded events stay."""
    site = selectors.site_get(site_id)
    page = confirmation_required(
        request,
        title=f"Delete the site “{site.name}”?",
        message="Its key stops working at once. Events already recorded stay in contacts' timelines.",
        label="Delete site",
        back=_url(request, "site_detail", site_id=site.pk),
    )
    if page:
        return page
    actions.site_delete(site.pk, principal=request.principal, request=request)
    messages.success(request, f"Site “{site.name}” deleted.")
    return redirect(_url(request, "site_list"))
