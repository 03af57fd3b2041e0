"""Shared fixtures: named actors in two workspaces in different regions.

alice is the owner of Acme (EU); bob is the owner of Globex (US); carol is a Tidings staff member.
ada and grace are made-up contacts of Acme, created with Acme as the current workspace (in_acme).
"""

import pytest

# Browser-test fixtures (Chromium via Playwright, axe, screenshots): tidings/web/tests/browser.py.
pytest_plugins = ["tidings.web.tests.browser", "tidings.tracking.tests.live_front"]

try:  # freezegun (test extras) would otherwise freeze pytest's own clock and garble --durations
    import freezegun

    freezegun.configure(extend_ignore_list=["_pytest"])
except ImportError:  # pragma: no cover
    pass


def pytest_configure(config):
    """Create the var folder and its keys, as `tidings init` does: importing settings only reads them.

    Runs in the controller before any xdist worker starts, so workers find the keys in place.
    """
    from tidings.conf import init_var_dir, use_master_key

    init_var_dir()
    use_master_key()  # settings were read before the key existed: load it now


def pytest_collection_modifyitems(items):
    """Give every test all three databases (global, us, eu) unless it asks for something else."""
    for item in items:
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(databases="__all__"))


def pytest_sessionfinish(session, exitstatus):
    """Fail a run that collected no test: an empty suite must never pass."""
    if session.testscollected == 0:
        session.exitstatus = 5 if exitstatus == 0 else exitstatus


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Hash passwords with MD5 in tests: Argon2's deliberate slowness costs seconds and tests nothing.

    tidings/accounts/tests/test_password_hashing.py checks the real hashers on their own.
    """
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def panels_fail_loudly():
    """A contact-page panel that raises fails the test; in production it is logged and skipped (contacts.panels)."""
    from django.conf import settings

    settings.TIDINGS_PANELS_FAIL_LOUDLY = True


@pytest.fixture
def fresh_rate_limits():
    """Clear the cache that holds the rate limits before and after the test, so each test starts unthrottled."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db):
    from tidings.accounts.actions import user_create

    def make(email, password="correct horse battery staple", **extra):
        return user_create(email=email, password=password, **extra)

    return make


@pytest.fixture
def acme(make_user):
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Acme", slug="acme", region="eu", owner=make_user("alice@acme.example"))


@pytest.fixture
def globex(make_user):
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Globex", slug="globex", region="us", owner=make_user("bob@globex.example"))


@pytest.fixture
def alice(acme):
    from tidings.accounts.models import User

    return User.objects.get(email="alice@acme.example")


@pytest.fixture
def bob(globex):
    from tidings.accounts.models import User

    return User.objects.get(email="bob@globex.example")


@pytest.fixture
def carol(make_user):
    return make_user("carol@tidings.example", is_staff=True)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def in_acme(acme):
    """Run the test with Acme (EU) as the current workspace."""
    from tidings.tenancy.context import use_workspace

    with use_workspace(acme):
        yield acme


@pytest.fixture
def ada(in_acme):
    from tidings.contacts.actions import contact_create
    from tidings.tests.principals import system

    return contact_create(
        {"email": "ada@analytical.example", "firstname": "Ada", "lastname": "Quillfeather", "city": "London"},
        tags=["mathematics"],
        principal=system(),
    )


@pytest.fixture
def grace(in_acme):
    from tidings.contacts.actions import contact_create
    from tidings.tests.principals import system

    return contact_create(
        {"email": "grace@navy.example", "firstname": "Grace", "lastname": "Brightwater"}, principal=system()
    )
