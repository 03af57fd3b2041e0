"""The public download of an asset: GET /m/<slug>/asset/<id>:<alias> (Mautic's route), ?stream=1 inline.

The route goes through the entry pipeline's public-page door (tidings.web.entry.PUBLIC_PAGE): the
slug names the workspace, the request acts with assets:download only and is rate-limited per client
address. An unpublished asset, an id or alias of another workspace, or a wrong alias answer 404.

What the browser gets: a remote asset redirects (302) to its address; a stored file comes as an
attachment with a safe Content-Disposition (Django's, RFC 6266 with an RFC 5987 name), or inline
with ?stream=1 for the types a browser shows without running anything (PDF, images, plain text;
never HTML or SVG, which are refused at upload anyway) under a sandboxing Content-Security-Policy.
Always X-Content-Type-Options: nosniff.

A form-gated asset first shows its form (the forms app's form_embed_html, its success redirect
pointing back here); the download then needs ?tds=<token> that the form's successful submission
issued (submission_token_valid). Each download counts, and is recorded for a contact only with a
lawful basis (tidings.assets.actions.asset_download_record).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render

from tidings.accounts.decorators import require_permission
from tidings.assets import actions, selectors, sniff, storage
from tidings.tenancy.context import require_workspace

DEVICE_COOKIE = "_tdv"  # the tracker's first-party device id (tidings/tracking/static/tracking/t.js)
INLINE_POLICY = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'"


def _page_host(request) -> str:
    """Return the host of the page the link was on (Referer), else the host asked; "" when neither reads."""
    for value in (request.headers.get("Referer", ""), f"//{request.get_host()}"):
        try:
            host = urlsplit(value).hostname or ""
        except ValueError:
            host = ""
        if host:
            return host
    return ""


def _signal(request) -> str | None:
    if request.headers.get("Sec-GPC", "").strip() == "1":
        return "gpc"
    if request.headers.get("DNT", "").strip() == "1":
        return "dnt"
    return None


def _gate(request, asset):
    """Return the gate page (200) when asset needs a form and the request has no valid token; else None."""
    if asset.form_id is None:
        return None
    try:
        from tidings.forms import selectors as form_selectors  # lazy: forms is another app (issue 11 seams)
    except ImportError:
        raise Http404("This download is not available.") from None
    token = request.GET.get("tds", "")
    if (
        isinstance(token, str)
        and token
        and len(token) <= 512
        and form_selectors.submission_token_valid(token, asset.form_id)
    ):
        return None
    form_html = form_selectors.form_embed_html(asset.form_id, success_url=selectors.download_url(asset))
    if form_html is None:
        raise Http404("This download is not available.")
    response = render(request, "assets/gate.html", {"asset": asset, "form_html": form_html})
    response["Cache-Control"] = "private, no-store"
    return response


def _file_response(request, asset) -> HttpResponseBase:
    kind = sniff.kind_of(asset.mime)
    inline = request.GET.get("stream") == "1" and kind is not None and kind.inline
    try:
        handle = storage.asset_storage(require_workspace().region).open(asset.stored_path, "rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404("This file is no longer stored.") from error
    response = FileResponse(handle, as_attachment=not inline, filename=asset.original_filename,
                            content_type=asset.mime or "application/octet-stream")  # fmt: skip
    if inline:
        response["Content-Security-Policy"] = INLINE_POLICY
    return response


@require_permission("assets:download")
def download(request, public_workspace: str, asset_id: int, alias: str = ""):
    """Serve (or redirect to) a published asset and count the download; see the module docstring."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    asset = selectors.published_asset(asset_id, alias)
    if asset is None:
        raise Http404("No such asset.")
    gate = _gate(request, asset)
    if gate is not None:
        return gate
    if request.method == "GET":
        click = request.GET.get("tdt") or request.GET.get("ct") or ""
        actions.asset_download_record(asset.pk, principal=request.principal,
                                      device_token=request.COOKIES.get(DEVICE_COOKIE, ""),
                                      click_token=click if isinstance(click, str) else "",
                                      host=_page_host(request), signal=_signal(request))  # fmt: skip
    if asset.is_remote:
        response: HttpResponseBase = HttpResponseRedirect(asset.remote_url)
        response["Referrer-Policy"] = "no-referrer"
    else:
        response = _file_response(request, asset)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # published to be linked and embedded anywhere
    return response
