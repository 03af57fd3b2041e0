"""The assets pages in Chromium: upload a file, read its public link, download it, see the count; axe, phone."""

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


def test_upload_a_guide_copy_its_link_and_count_a_download(alice_page, acme, private_var, tmp_path, live_server):
    from urllib.parse import urlsplit

    from tidings.assets.tests.conftest import EXE, PDF

    visit(alice_page, "/w/acme/assets/")
    assert "No assets yet" in alice_page.inner_text("main")
    assert_accessible(alice_page)
    alice_page.get_by_role("navigation").get_by_role("link", name="Assets").first.wait_for()

    alice_page.get_by_role("link", name="Upload an asset").first.click()
    alice_page.wait_for_url("**/assets/new/")
    assert_accessible(alice_page)
    setup = tmp_path / "setup.pdf"
    setup.write_bytes(EXE)
    alice_page.get_by_label("Title").fill("Pricing guide")
    alice_page.get_by_label("File").set_input_files(str(setup))
    alice_page.get_by_role("button", name="Upload").click()
    alice_page.locator("#id_file_error").wait_for()
    assert "not accepted" in alice_page.locator("#id_file_error").inner_text()
    assert_accessible(alice_page)
    alice_page.console_problems.clear()  # the refused form's 400, which Chromium logs as a failed load

    guide = tmp_path / "pricing.pdf"
    guide.write_bytes(PDF)
    alice_page.get_by_label("File").set_input_files(str(guide))
    alice_page.get_by_role("button", name="Upload").click()
    alice_page.wait_for_url("**/assets/*/")
    link = alice_page.get_by_label("Download link of Pricing guide").input_value()
    assert "/m/acme/asset/" in link and link.endswith(":pricing-guide")
    assert alice_page.get_by_role("button", name="Copy the link").is_visible()
    assert_accessible(alice_page)
    assert not alice_page.console_problems, list(alice_page.console_problems)

    downloaded = alice_page.request.get(live_server.url + urlsplit(link).path)
    assert downloaded.status == 200 and downloaded.body() == PDF
    visit(alice_page, "/w/acme/assets/")
    assert alice_page.get_by_test_id("downloads").inner_text() == "1"
    assert_accessible(alice_page)


def test_the_asset_pages_fit_a_phone(alice_page, acme, private_var):
    from tidings.assets import actions
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        asset = actions.asset_create(principal=system(acme), title="Brochure", remote_url="https://files.example/b.pdf")
    alice_page.set_viewport_size(PHONE)
    for path in ("/w/acme/assets/", "/w/acme/assets/new/", f"/w/acme/assets/{asset.pk}/", "/w/acme/assets/settings/"):
        visit(alice_page, path)
        assert_no_horizontal_overflow(alice_page)
        assert_accessible(alice_page)
