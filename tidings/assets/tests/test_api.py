"""The native API /api/v1/assets and Mautic's /api/assets: uploads, links, refusals and Mautic's shapes."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.assets import actions, selectors
from tidings.assets.tests.conftest import EXE, PDF, upload
from tidings.tests.api_client import token_api
from tidings.tests.principals import system

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def api(client, acme, alice, private_var):
    return token_api(client, acme, alice)


def post_upload(api, path, fields, content=PDF, name="guide.pdf"):
    data = {**fields, "file": upload(content, name)}
    return api.client.post(f"/api/v1{path}", data, **api.headers)


def test_upload_by_multipart(api, in_acme):
    response = post_upload(api, "/assets", {"title": "Guide", "is_published": "true"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mime"] == "application/pdf" and body["size"] == len(PDF) and body["storage_location"] == "local"
    assert body["download_url"].endswith(f"/m/acme/asset/{body['id']}:guide")


def test_a_remote_link_by_json(api, in_acme):
    response = api.post("/assets", {"title": "Brochure", "remote_url": "https://files.example/b.pdf"})
    assert response.status_code == 201 and response.json()["storage_location"] == "remote"


def test_a_refused_type_is_a_422_on_the_file(api, in_acme):
    response = post_upload(api, "/assets", {"title": "Setup"}, EXE, "setup.pdf")
    assert response.status_code == 422 and "file" in response.json()["error"]["details"]["fields"]


def test_a_file_over_the_limit_is_a_413(api, in_acme, settings):
    actions.asset_settings_update(principal=system(), max_bytes=2048)
    response = post_upload(api, "/assets", {"title": "Big"}, PDF + b"0" * 100_000)
    assert response.status_code == 413 and "2048" not in response.json()["error"]["message"]
    assert not selectors.assets().exists()


def test_a_file_over_the_json_body_limit_still_uploads(api, in_acme, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post_upload(api, "/assets", {"title": "Large"}, PDF + b"0" * 50_000)
    assert response.status_code == 201
    assert api.send("PATCH", "/assets/1", "x" * 20_000).status_code == 413  # JSON bodies keep their limit


def test_get_list_patch_replace_and_delete(api, guide):
    assert api.get(f"/assets/{guide.pk}").json()["title"] == "Pricing guide"
    assert [item["id"] for item in api.get("/assets").json()["items"]] == [guide.pk]
    patched = api.send("PATCH", f"/assets/{guide.pk}", {"title": "Prices", "is_published": False}).json()
    assert patched["title"] == "Prices" and patched["is_published"] is False
    replaced = api.client.post(f"/api/v1/assets/{guide.pk}/file", {"file": upload(b"plain text\n", "a.txt")},
                               **api.headers)  # fmt: skip
    assert replaced.status_code == 200 and replaced.json()["mime"] == "text/plain"
    assert api.send("DELETE", f"/assets/{guide.pk}").status_code == 204
    assert api.get(f"/assets/{guide.pk}").status_code == 404


def test_a_token_without_assets_edit_cannot_upload(client, acme, alice, in_acme, private_var):
    reader = token_api(client, acme, alice, permissions=["assets:view"], name="Reader")
    assert post_upload(reader, "/assets", {"title": "Guide"}).status_code == 403
    assert reader.get("/assets").status_code == 200


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    fields=st.dictionaries(
        st.sampled_from(["title", "alias", "description", "is_published", "form_id", "remote_url", "other"]),
        st.text(max_size=300),
        max_size=6,
    ),
    name=st.text(max_size=300),
    content=st.binary(max_size=2000),
)
def test_any_upload_metadata_is_answered_without_a_server_error(api, in_acme, fields, name, content):
    fields = {key: value.replace("\x00", "") for key, value in fields.items()}
    # The test client's file object refuses a name whose last part is empty, "." or ".." (Django's
    # SuspiciousFileOperation, raised here and not in the view): such a name never reaches the server.
    name = name.replace("\x00", "")
    name = name if os.path.basename(name) not in ("", ".", "..") else "x"
    response = post_upload(api, "/assets", fields, content, name)
    assert response.status_code < 500, response.content


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.dictionaries(
        st.sampled_from(["title", "alias", "remote_url", "form_id", "is_published"]),
        st.one_of(st.text(max_size=100), st.integers(), st.booleans(), st.none()),
        max_size=5,
    )
)
def test_any_json_metadata_is_answered_without_a_server_error(api, in_acme, body):
    assert api.post("/assets", body).status_code < 500


# ----------------------------------------------------------------------------------------------
# Mautic's /api/assets


@pytest.fixture
def bearer(acme, alice, private_var):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="Mautic plugin",
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_mautic_list_and_get_use_mauticss_names(client, guide, bearer):
    listed = client.get("/api/assets", **bearer).json()
    assert listed["total"] == 1
    item = listed["assets"][str(guide.pk)]
    assert item["title"] == "Pricing guide" and item["storageLocation"] == "local" and item["downloadCount"] == 0
    assert item["mime"] == "application/pdf" and item["extension"] == "pdf" and item["isPublished"] is True
    assert item["downloadUrl"].endswith(f"/m/acme/asset/{guide.pk}:pricing-guide")
    assert client.get(f"/api/assets/{guide.pk}", **bearer).json()["asset"]["id"] == guide.pk


def test_mautic_new_remote_and_local_then_edit_and_delete(client, in_acme, bearer):
    remote = client.post("/api/assets/new", {"title": "Brochure", "storageLocation": "remote",
                                             "file": "https://files.example/b.pdf"}, **bearer)  # fmt: skip
    assert remote.status_code == 201, remote.content
    assert remote.json()["asset"]["remotePath"] == "https://files.example/b.pdf"
    local = client.post("/api/assets/new", {"title": "Guide", "storageLocation": "local", "file": upload(PDF)},
                        **bearer)  # fmt: skip
    assert local.status_code == 201 and local.json()["asset"]["size"] == len(PDF)
    asset_id = local.json()["asset"]["id"]
    edited = client.patch(f"/api/assets/{asset_id}/edit", '{"title": "Prices"}', content_type="application/json",
                          **bearer)  # fmt: skip
    assert edited.json()["asset"]["title"] == "Prices"
    deleted = client.delete(f"/api/assets/{asset_id}/delete", **bearer)
    assert deleted.status_code == 200 and deleted.json()["asset"]["id"] is None


def test_mautic_file_name_without_the_file_is_explained(client, in_acme, bearer):
    response = client.post("/api/assets/new", {"title": "Guide", "storageLocation": "local", "file": "guide.pdf"},
                           **bearer)  # fmt: skip
    assert response.status_code == 400 and "multipart" in response.json()["errors"][0]["message"]
