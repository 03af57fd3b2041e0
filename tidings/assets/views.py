"""The assets pages: the list with download counts, the upload form, each asset's page with its public link.

Thin: the form in, tidings.assets.actions and .selectors do the work. An asset named in a URL is
read through a selector of request.workspace; another workspace's id answers 404 exactly like one
that does not exist. The upload pages read the body themselves (csrf_exempt outside, csrf_protect
inside) so that a file over the workspace's limit is stopped while it arrives (tidings.assets.uploads).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.assets import actions, selectors, uploads
from tidings.assets.forms import AssetForm, AssetSettingsForm
from tidings.ui.confirm import confirmation_required
from tidings.ui.datatable import Column, DataTable
from tidings.validation import form_add_errors

ASSET_COLUMNS = [
    Column("title", "Title", sort="title", required=True),
    Column("kind", "File"),
    Column("downloads", "Downloads", sort="downloads", numeric=True, first_descending=True),
    Column("published", "Status"),
]
MB = 1024 * 1024


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"assets:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _render(request, template: str, context: dict, status: int = 200):
    context["can"] = {"edit": request.principal.can("assets:edit"),
                      "settings": request.principal.can("settings:manage")}  # fmt: skip
    context.setdefault("max_upload", selectors.megabytes(selectors.max_upload_bytes()))
    return render(request, template, context, status=status)


@require_permission("assets:view")
def asset_list(request, workspace_slug):
    """List the workspace's assets with their download counts (by title, or most downloaded first)."""
    sort = request.GET.get("sort", "title")
    order = {"title": "title", "-title": "-title", "downloads": "downloads", "-downloads": "downloads"}.get(
        sort, "title"
    )
    rows = list(selectors.assets(order)[: selectors.ASSETS_LIMIT])
    can_edit = request.principal.can("assets:edit")
    empty = {
        "title": "No assets yet",
        "text": "Upload a file (a guide, a price list, an image) or link one hosted elsewhere: each gets a "
        "public download link that counts its downloads."
        + ("" if can_edit else " A member who can edit assets uploads them."),
        "actions": [("Upload an asset", _url(request, "create"))] if can_edit else [],
    }
    table = DataTable(columns=ASSET_COLUMNS, query=request.GET, order=order, rows=rows, id="assets",
                      caption="Assets", noun="assets", row_template="assets/rows.html", row_actions=can_edit,
                      empty={} if rows else empty)  # fmt: skip
    return _render(request, "assets/list.html", {"table": table, "rows": rows})


def _save(request, form: AssetForm, asset=None):
    values = form.values()
    upload = request.FILES.get("file")
    filename = upload.name if upload is not None else ""
    try:
        if asset is None:
            saved = actions.asset_create(principal=request.principal, request=request, file=upload,
                                         filename=filename, **values)  # fmt: skip
        else:
            if upload is None and values["remote_url"] in ("", asset.remote_url):
                values.pop("remote_url")  # no new link: the asset keeps its file or its address
            saved = actions.asset_update(asset.pk, principal=request.principal, request=request, file=upload,
                                         filename=filename, **values)  # fmt: skip
    except ValidationError as error:
        form_add_errors(form, error)
        return _render(request, "assets/form.html", {"form": form, "asset": asset}, status=400)
    messages.success(request, f"Asset “{saved.title}” {'uploaded' if asset is None else 'saved'}.")
    return redirect(_url(request, "detail", asset_id=saved.pk))


def _posted_form(request, asset=None):
    """Read the posted form with the upload limited to the workspace's size; return the response."""
    limit = selectors.max_upload_bytes()
    too_big = f"the file is larger than {selectors.megabytes(limit)}, this workspace's limit"
    if uploads.declared_too_big(request, limit):
        form = AssetForm(initial={} if asset is None else AssetForm.for_asset(asset).initial)
        form.add_error(None, too_big)
        return _render(request, "assets/form.html", {"form": form, "asset": asset}, status=413)
    handler = uploads.limit_uploads(request, limit)
    return _csrf_checked_post(request, asset, handler, too_big)


@csrf_protect
def _csrf_checked_post(request, asset, handler, too_big):
    form = AssetForm(request.POST, request.FILES)
    if handler.exceeded:
        form.is_valid()
        form.add_error("file", too_big)
        return _render(request, "assets/form.html", {"form": form, "asset": asset}, status=413)
    if not form.is_valid():
        return _render(request, "assets/form.html", {"form": form, "asset": asset}, status=400)
    return _save(request, form, asset)


@csrf_exempt  # checked by _csrf_checked_post, after the upload handler is in place
@require_permission("assets:edit")
def asset_create(request, workspace_slug):
    """The upload form; saving stores the file (or the link) and shows the asset's page."""
    if request.method == "POST":
        return _posted_form(request)
    return _render(request, "assets/form.html", {"form": AssetForm(), "asset": None})


@csrf_exempt  # checked by _csrf_checked_post, after the upload handler is in place
@found
@require_permission("assets:edit")
def asset_edit(request, workspace_slug, asset_id):
    """The form of an existing asset; a new file replaces the stored one."""
    asset = selectors.asset_get(asset_id)
    if request.method == "POST":
        return _posted_form(request, asset)
    return _render(request, "assets/form.html", {"form": AssetForm.for_asset(asset), "asset": asset})


@found
@require_permission("assets:view")
def asset_detail(request, workspace_slug, asset_id):
    """An asset's page: its public link (with a copy button), what it is and how often it was downloaded."""
    asset = selectors.asset_get(asset_id)
    context = {"asset": asset, "download_url": selectors.download_url(asset), "size": selectors.megabytes(asset.size)}
    return _render(request, "assets/detail.html", context)


@require_POST
@found
@require_permission("assets:edit")
def asset_delete(request, workspace_slug, asset_id):
    """Delete an asset after a confirmation; its stored file is deleted with it."""
    asset = selectors.asset_get(asset_id)
    page = confirmation_required(
        request,
        title=f"Delete the asset “{asset.title}”?",
        message="Its public link stops working at once and its stored file is deleted. Downloads already "
        "recorded stay in contacts' timelines.",
        label="Delete asset",
        back=_url(request, "detail", asset_id=asset.pk),
    )
    if page:
        return page
    actions.asset_delete(asset.pk, principal=request.principal, request=request)
    messages.success(request, f"Asset “{asset.title}” deleted.")
    return redirect(_url(request, "list"))


@require_permission("settings:manage")
def asset_settings(request, workspace_slug):
    """The workspace's upload limit."""
    current = selectors.max_upload_bytes()
    if request.method == "POST":
        form = AssetSettingsForm(request.POST)
        if form.is_valid():
            try:
                max_bytes = int(form.cleaned_data["max_megabytes"] * MB)
                actions.asset_settings_update(principal=request.principal, request=request, max_bytes=max_bytes)
            except ValidationError as error:
                error = ValidationError({"max_megabytes": error.message_dict.get("max_bytes", [])})
                form_add_errors(form, error)
            else:
                messages.success(request, "Upload limit saved.")
                return redirect(_url(request, "list"))
        return _render(request, "assets/settings.html", {"form": form}, status=400)
    form = AssetSettingsForm(initial={"max_megabytes": (Decimal(current) / MB).quantize(Decimal("0.01"))})
    return _render(request, "assets/settings.html", {"form": form})
