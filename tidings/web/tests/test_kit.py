"""The UI kit page (/w/<slug>/ui/) and its template tags."""

from django.template import Context, Template


def test_the_kit_page_opens_for_an_admin(alice_client, acme):
    response = alice_client.get("/w/acme/ui/")
    assert response.status_code == 200
    assert b"Page header" in response.content and b"Confirm dialog" in response.content


def test_the_kit_page_is_refused_to_a_marketer(client, acme, make_user):
    from tidings.accounts.actions import membership_create
    from tidings.tests.principals import system

    dave = make_user("dave@acme.example")
    membership_create(workspace=acme, user=dave, role="marketer", principal=system(acme))
    client.force_login(dave)
    assert client.get("/w/acme/ui/").status_code == 403


def test_the_kit_page_lists_every_icon_of_the_sprite(alice_client, acme):
    page = alice_client.get("/w/acme/ui/").content.decode()
    assert "<code>trash-2</code>" in page and "<code>users</code>" in page


def test_a_confirmed_demo_adds_a_toast_and_comes_back(alice_client, acme):
    response = alice_client.post("/w/acme/ui/", {"demo": "confirm", "confirmed": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/w/acme/ui/"
    assert b"Confirmed. (The kit page changes nothing.)" in response.content


def _render(source: str) -> str:
    return Template("{% load kit %}" + source).render(Context())


def test_breadcrumbs_link_every_step_but_the_current_page():
    html = _render('{% breadcrumbs "Contacts" "/c/" "Settings" "" "Ada" %}')
    assert '<li><a href="/c/">Contacts</a></li><li>Settings</li><li aria-current="page">Ada</li>' in html


def test_a_page_header_puts_its_body_in_the_actions():
    body = '<a class="button" href="/n/">New</a>'
    html = _render('{% pageheader "Contacts" subtitle="3 people" %}' + body + "{% endpageheader %}")
    assert "<h1>Contacts</h1>" in html and '<p class="page-subtitle">3 people</p>' in html
    assert '<div class="page-actions"><a class="button" href="/n/">New</a></div>' in html


def test_an_icon_is_hidden_from_screen_readers_unless_it_has_a_label():
    assert 'aria-hidden="true"' in _render('{% icon "users" %}')
    assert 'role="img" aria-label="Delete"' in _render('{% icon "trash-2" label="Delete" %}')
