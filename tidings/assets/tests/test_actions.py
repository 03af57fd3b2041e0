"""Uploading, changing and deleting assets: checked whole before storing, nothing left behind, owner-only files."""

from __future__ import annotations

import os
import stat

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tidings.assets import actions, selectors, storage
from tidings.assets.models import Asset
from tidings.assets.tests.conftest import EXE, HTML, PDF, PNG, SVG, docx_bytes, upload
from tidings.tests.principals import system


def in_region() -> str:
    from tidings.tenancy.context import require_workspace

    return require_workspace().db_alias


def stored_files(var) -> list:
    root = var / "uploads"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_an_uploaded_pdf_is_stored_owner_only_under_the_workspace_folder(guide, private_var, acme):
    assert guide.mime == "application/pdf" and guide.extension == "pdf" and guide.size == len(PDF)
    assert guide.original_filename == "pricing.pdf" and guide.alias == "pricing-guide"
    (path,) = stored_files(private_var)
    assert path.parent == private_var / "uploads" / "eu" / "assets" / str(acme.pk)
    assert path.read_bytes() == PDF
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, private_var / "uploads" / "eu"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert "pricing" not in path.name  # the stored name is random, never the uploaded one


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [(PNG, "logo.png", "image/png"), (docx_bytes(), "offer.docx", "application/vnd.openxmlformats-officedocument"
      ".wordprocessingml.document"), (b"name,city\nAda,London\n", "list.csv", "text/csv"),
     (b"Hello there\n", "notes.txt", "text/plain"), (PDF, "named-wrong.png", "application/pdf")],
)  # fmt: skip
def test_the_type_is_read_from_the_content(in_acme, private_var, content, name, expected):
    asset = actions.asset_create(principal=system(), title="A file", file=upload(content, name), filename=name)
    assert asset.mime == expected


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [(HTML, "page.pdf", "HTML, SVG"), (SVG, "logo.svg", "HTML, SVG"), (EXE, "setup.pdf", "not accepted"),
     (b"", "empty.pdf", "empty")],
)  # fmt: skip
def test_a_refused_type_says_why_and_leaves_no_file(in_acme, private_var, content, name, message):
    with pytest.raises(ValidationError) as caught:
        actions.asset_create(principal=system(), title="Bad", file=upload(content, name), filename=name)
    assert message in " ".join(caught.value.message_dict["file"])
    assert stored_files(private_var) == [] and not Asset.objects.exists()


def test_a_file_over_the_workspace_limit_is_refused_naming_the_limit(in_acme, private_var):
    actions.asset_settings_update(principal=system(), max_bytes=1024 * 1024)
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError) as caught:
        actions.asset_create(principal=system(), title="Big", file=upload(big), filename="big.pdf")
    assert caught.value.message_dict["file"] == ["the file is larger than 1 MB, this workspace's limit"]
    assert stored_files(private_var) == []


def test_the_default_limit_is_25_mb_and_never_above_the_ceiling(in_acme, settings):
    assert selectors.max_upload_bytes() == 25 * 1024 * 1024
    settings.TIDINGS_ASSET_MAX_BYTES = 1000
    assert selectors.max_upload_bytes() == 1000
    with pytest.raises(ValidationError):
        actions.asset_settings_update(principal=system(), max_bytes=2000)


def test_a_failed_row_write_deletes_the_file_it_stored(in_acme, private_var, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Asset.objects, "create", broken)
    with pytest.raises(RuntimeError):
        actions.asset_create(principal=system(), title="Guide", file=upload(PDF), filename="guide.pdf")
    assert stored_files(private_var) == []


def test_deleting_an_asset_deletes_its_file(guide, private_var, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=in_region(), execute=True):
        actions.asset_delete(guide.pk, principal=system())
    assert stored_files(private_var) == [] and not Asset.objects.exists()


def test_replacing_the_file_deletes_the_old_one(guide, private_var, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using=in_region(), execute=True):
        changed = actions.asset_update(guide.pk, principal=system(), file=upload(PNG, "logo.png"), filename="logo.png")
    (path,) = stored_files(private_var)
    assert path.read_bytes() == PNG and changed.mime == "image/png" and changed.original_filename == "logo.png"


def test_a_remote_asset_keeps_its_address_and_stores_nothing(in_acme, private_var):
    asset = actions.asset_create(principal=system(), title="Brochure", remote_url="https://files.example/b.pdf")
    assert asset.is_remote and asset.remote_url == "https://files.example/b.pdf" and stored_files(private_var) == []


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example/a", "not a url", "https://" + "a" * 2100])
def test_a_remote_address_must_be_http(in_acme, url):
    with pytest.raises(ValidationError) as caught:
        actions.asset_create(principal=system(), title="Bad", remote_url=url)
    assert "remote_url" in caught.value.message_dict
    assert url[:20] not in str(caught.value)


def test_exactly_one_of_file_and_remote_address(in_acme, private_var):
    for kwargs in ({}, {"file": upload(PDF), "remote_url": "https://files.example/a.pdf"}):
        with pytest.raises(ValidationError) as caught:
            actions.asset_create(principal=system(), title="Either", **kwargs)
        assert "file" in caught.value.message_dict
    assert stored_files(private_var) == []


def test_aliases_are_unique_in_the_workspace(guide):
    second = actions.asset_create(principal=system(), title="Pricing guide", remote_url="https://files.example/a")
    assert second.alias == "pricing-guide-2"
    with pytest.raises(ValidationError) as caught:
        actions.asset_create(principal=system(), title="X", alias="pricing-guide", remote_url="https://files.example/")
    assert caught.value.message_dict["alias"] == ["another asset has this alias"]


def test_a_path_in_the_uploaded_name_is_dropped(in_acme, private_var):
    asset = actions.asset_create(principal=system(), title="Guide", file=upload(PDF),
                                 filename="../../etc/\x00pass\nwd.pdf")  # fmt: skip
    assert asset.original_filename == "passwd.pdf"


@pytest.mark.parametrize("role", ["analyst"])
def test_members_without_assets_edit_cannot_write(member, in_acme, private_var, role):
    principal = member(role)
    with pytest.raises(PermissionDenied):
        actions.asset_create(principal=principal, title="Guide", file=upload(PDF), filename="guide.pdf")
    assert stored_files(private_var) == []


def test_a_marketer_uploads_and_deletes(member, in_acme, private_var):
    principal = member("marketer")
    asset = actions.asset_create(principal=principal, title="Guide", file=upload(PDF), filename="guide.pdf")
    actions.asset_delete(asset.pk, principal=principal)
    with pytest.raises(PermissionDenied):
        actions.asset_settings_update(principal=principal, max_bytes=1000)


def test_the_public_page_principal_may_only_download(guide):
    from tidings.accounts.permissions import PUBLIC_PAGE_PERMISSIONS, Principal, Via
    from tidings.tenancy.selectors import workspace_by_id

    public = Principal(workspace=workspace_by_id(guide.workspace_id), user=None, permissions=PUBLIC_PAGE_PERMISSIONS,
                       via=Via.PUBLIC_KEY)  # fmt: skip
    with pytest.raises(PermissionDenied):
        actions.asset_delete(guide.pk, principal=public)
    actions.asset_download_record(guide.pk, principal=public)
    assert selectors.asset_get(guide.pk).download_count == 1
    nobody = Principal(workspace=public.workspace, user=None, permissions=frozenset(), via=Via.PUBLIC_KEY)
    with pytest.raises(PermissionDenied):
        actions.asset_download_record(guide.pk, principal=nobody)


def test_erasing_the_workspace_stores_deletes_every_file(guide, private_var):
    from tidings.privacy.registry import erase_workspace_stores

    orphan = storage.asset_storage("eu").save(storage.new_name(guide.workspace_id), upload(PNG, "x.png"))
    assert orphan
    counts = erase_workspace_stores()
    assert counts["assets.files"] == 2 and stored_files(private_var) == []


def test_erasing_a_contact_deletes_no_published_file(guide, private_var, ada):
    from tidings.privacy.registry import erase_subject

    erased = erase_subject(ada.id, principal=system())
    assert erased.get("assets.files", 0) == 0 and len(stored_files(private_var)) == 1
