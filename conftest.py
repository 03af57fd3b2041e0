"""Shared fixtures: named actors in two workspaces in different regions.

alice is the owner of Acme (EU); bob is the owner of Globex (US); carol is a Tidings staff member.
ada and grace are made-up contacts of Acme, created with Acme as the current workspace (in_acme).
"""

import contextlib
import fcntl
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import hypothesis
import pytest

# Browser-test fixtures (Chromium via Playwright, axe, screenshots): tidings/web/tests/browser.py.
pytest_plugins = ["tidings.web.tests.browser", "tidings.tracking.tests.live_front"]

try:  # freezegun (test extras) would otherwise freeze pytest's own clock and garble --durations
    import freezegun

    freezegun.configure(extend_ignore_list=["_pytest"])
except ImportError:  # pragma: no cover
    pass

# No timed assertions (the machines are noisy): hypothesis's per-example deadline (200 ms) failed a
# sanitiser test that took 317 ms once under load and 0.4 ms on the retry. Speed is the benches' job.
hypothesis.settings.register_profile("tidings", deadline=None)
hypothesis.settings.load_profile("tidings")


def pytest_configure(config):
    """Create the var folder and its keys, as `tidings init` does: importing settings only reads them.

    Runs in the controller before any xdist worker starts, so workers find the keys in place.
    """
    from tidings.conf import init_var_dir, use_master_key

    init_var_dir()
    use_master_key()  # settings were read before the key existed: load it now
    copies = os.environ.get("TIDINGS_TEST_DATABASE_COPIES", "1") != "0"  # 0: each worker migrates its own
    if copies and config.getoption("numprocesses", None) and not hasattr(config, "workerinput"):
        # The xdist workers inherit this folder, where the first of them leaves the migrated databases.
        config._tidings_template_dir = tempfile.mkdtemp(prefix="tidings-test-templates.")
        os.environ["TIDINGS_TEST_TEMPLATE_DIR"] = config._tidings_template_dir
    _engine_use.install()


def pytest_unconfigure(config):
    if getattr(config, "_tidings_template_dir", None):
        shutil.rmtree(config._tidings_template_dir, ignore_errors=True)


def pytest_collection_modifyitems(items):
    """Give every test all three databases (global, us, eu) unless it asks for something else.

    With TIDINGS_TEST_FEWER_EXAMPLES=N, property-based tests try a Nth of their examples (at least 10):
    bin/test sets it for the PostgreSQL run, the SQLite run tries them all.
    """
    divisor = int(os.environ.get("TIDINGS_TEST_FEWER_EXAMPLES") or 1)
    scaled = set()
    for item in items:
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(databases="__all__"))
        test = getattr(item, "obj", None)
        if divisor > 1 and hasattr(test, "hypothesis") and id(test) not in scaled:
            scaled.add(id(test))
            _fewer_examples(test, divisor)


def _fewer_examples(test, divisor):
    """Lower the example count of a hypothesis test, whether it comes from a profile or its @settings."""
    from hypothesis import settings

    current = test._hypothesis_internal_use_settings  # where @given reads its settings at each run
    fewer = max(10, -(-current.max_examples // divisor))
    if fewer < current.max_examples:
        test._hypothesis_internal_use_settings = settings(current, max_examples=fewer)


class _EngineUse:
    """Count, in this process and all its threads, the SQL a test has executed or compiled.

    The engine_independent marker (pyproject.toml) promises that a test never reaches the database engine,
    so bin/test runs it on SQLite only; check_engine_independent holds each marked test to that promise.
    """

    # What is sent around each test whatever it does: the test framework's transactions, savepoints and
    # constraint checks, and the fixtures' emptying of the database cache (which holds the rate limits).
    BOOKKEEPING = (
        "BEGIN",
        "SAVEPOINT",
        "RELEASE SAVEPOINT",
        "ROLLBACK",
        "PRAGMA FOREIGN_KEY_CHECK",
        "SET CONSTRAINTS",
        'DELETE FROM "TIDINGS_CACHE"',
    )

    def __init__(self):
        self.count = 0
        self.first = None

    def install(self):
        from django.db.backends import utils
        from django.db.models.sql import query

        def counting(original, executes):
            def wrapper(*args, **kwargs):
                statement = str(args[1]) if executes else None  # the SQL with its placeholders, no values
                if statement is None or not statement.lstrip().upper().startswith(self.BOOKKEEPING):
                    self.count += 1
                    self.first = self.first or (f"executed {statement[:60]!r}" if statement else "compiled a query")
                return original(*args, **kwargs)

            return wrapper

        utils.CursorWrapper._execute = counting(utils.CursorWrapper._execute, executes=True)
        utils.CursorWrapper._executemany = counting(utils.CursorWrapper._executemany, executes=True)
        query.Query.get_compiler = counting(query.Query.get_compiler, executes=False)


_engine_use = _EngineUse()


@pytest.fixture(autouse=True)
def check_engine_independent(request):
    """Fail a test marked engine_independent that reached the database engine: it must run on both."""
    if request.node.get_closest_marker("engine_independent") is None:
        yield
        return
    before, _engine_use.first = _engine_use.count, None
    yield
    if _engine_use.count != before:
        pytest.fail(
            f"marked engine_independent, but it reached the database ({_engine_use.first}): remove the marker",
            pytrace=False,
        )


def pytest_sessionfinish(session, exitstatus):
    """Fail a run that collected no test: an empty suite must never pass."""
    if session.testscollected == 0:
        session.exitstatus = 5 if exitstatus == 0 else exitstatus


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """Create the test databases; under xdist, migrate them once and give each worker a copy.

    Migrating the three databases costs each worker tens of seconds of CPU; a copy costs a fraction of a
    second (PostgreSQL: CREATE DATABASE ... TEMPLATE; SQLite: the file read into the worker's in-memory
    database). The workers migrate the templates in TIDINGS_TEST_TEMPLATE_DIR (made by the xdist
    controller, see pytest_configure) or, on PostgreSQL, into databases named after it, each template
    under a lock of its own so that two workers migrate two at once; the last one to finish drops the
    PostgreSQL templates. Without xdist, the databases are set up the usual way.
    """
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    verbosity = request.config.option.verbose
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    template_dir = os.environ.get("TIDINGS_TEST_TEMPLATE_DIR")
    workerinput = getattr(request.config, "workerinput", None)
    with django_db_blocker.unblock():
        if template_dir and workerinput:
            worker = int(workerinput["workerid"].removeprefix("gw") or 0)
            old_config = _TestDatabaseTemplates(Path(template_dir)).clone(aliases, serialized_aliases, worker)
        else:
            old_config = setup_databases(
                verbosity=verbosity, interactive=False, aliases=aliases, serialized_aliases=serialized_aliases
            )
    yield
    with django_db_blocker.unblock():
        _end_stray_sessions(old_config)
        teardown_databases(old_config, verbosity=verbosity)
        if template_dir and workerinput:
            _TestDatabaseTemplates(Path(template_dir)).release(aliases, workerinput["workercount"])


def _end_stray_sessions(old_config) -> None:
    """End the other sessions on this process's PostgreSQL test databases, so that dropping them succeeds.

    A daemon thread of a test (the tracking front's in-process flusher, a recovery pass) keeps its own
    connection until the process exits, and a child process killed by a test may leave its backend for a
    moment: DROP DATABASE then failed with "being accessed by other users", reported as an error of
    whichever test ran last. At the end of the session nothing of theirs is still wanted.
    """
    for connection, _, _ in old_config:
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


class _TestDatabaseTemplates:
    """Migrated test databases that xdist workers copy, in a folder shared by the workers of one run.

    Every region database has the same tables (the router gives each region alias the tenant apps and
    the audit log), so only the first region's template is migrated; the others are copies of it.
    """

    def __init__(self, folder):
        self.folder = folder
        self.configured_names = {}  # alias: the database name in the settings, before it becomes the copy's

    def _locked(self, name="lock"):
        lock = open(self.folder / name, "w")  # noqa: SIM115 - closed by the caller's with
        fcntl.flock(lock, fcntl.LOCK_EX)
        return lock

    def _template_name(self, connection, configured_name):
        if connection.vendor == "sqlite":
            return str(self.folder / f"{connection.alias}.sqlite3")
        return f"test_{configured_name}_template"

    def _copied_from(self, alias, aliases):
        """Return the alias whose template this alias's template copies, or None if it is migrated."""
        from django.db import connections

        from tidings.tenancy.context import region_aliases

        regions = [region for region in region_aliases() if region in aliases]
        first = regions[0] if regions else None
        if alias not in regions or alias == first or connections[alias].vendor != connections[first].vendor:
            return None
        return first

    def clone(self, aliases, serialized_aliases, worker=0):
        """Give this worker its copy of each database (making the templates first if none exist yet).

        Worker n starts with the nth migrated template, so two workers migrate two templates at once;
        the copied templates come last, once the one they copy is likely ready.
        """
        from django.conf import settings
        from django.db import connections

        migrated = sorted(alias for alias in aliases if self._copied_from(alias, aliases) is None)
        copied = sorted(alias for alias in aliases if self._copied_from(alias, aliases) is not None)
        start = worker % len(migrated) if migrated else 0
        self.configured_names = {alias: connections[alias].settings_dict["NAME"] for alias in aliases}
        old_config = []
        for alias in migrated[start:] + migrated[:start] + copied:
            connection = connections[alias]
            old_name = connection.settings_dict["NAME"]
            test_name = connection.creation._get_test_db_name()
            with self._locked(f"lock-{alias}"):
                self._make_template(alias, aliases)
                template = self._template_name(connection, old_name)
                connection.close()
                if connection.vendor == "sqlite":
                    connection.settings_dict["NAME"] = test_name
                    if connection.creation.is_in_memory_db(test_name):
                        connection.ensure_connection()
                        with contextlib.closing(sqlite3.connect(template)) as source:
                            source.backup(connection.connection)
                    else:
                        shutil.copy(template, test_name)
                else:
                    self._create_database(connection, test_name, template)
                    connection.settings_dict["NAME"] = test_name
            settings.DATABASES[alias]["NAME"] = test_name
            connection.ensure_connection()
            if alias in serialized_aliases:
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()
            old_config.append((connection, old_name, True))
        return old_config

    def _make_template(self, alias, aliases):
        """Migrate alias's template, or copy it from the one it shares its tables with; once per run."""
        from django.db import connections

        ready = self.folder / f"ready-{alias}"
        if ready.exists():
            return
        connection = connections[alias]
        template = self._template_name(connection, self.configured_names[alias])
        source_alias = self._copied_from(alias, aliases)
        if source_alias is None:
            worker_test_settings = connection.settings_dict["TEST"]
            connection.settings_dict["TEST"] = {**worker_test_settings, "NAME": template}
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            connection.settings_dict["TEST"] = worker_test_settings
            connection.close()
        else:
            source = connections[source_alias]
            with self._locked(f"lock-{source_alias}"):  # never the other way round: no deadlock
                self._make_template(source_alias, aliases)
                source_template = self._template_name(source, self.configured_names[source_alias])
                if connection.vendor == "sqlite":
                    shutil.copy(source_template, template)
                else:
                    self._create_database(connection, template, source_template)
        ready.touch()

    @staticmethod
    def _create_database(connection, name, template):
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
            cursor.execute(
                f"CREATE DATABASE {connection.ops.quote_name(name)} TEMPLATE {connection.ops.quote_name(template)}"
            )

    def release(self, aliases, workers):
        """Count this worker done; the last one drops the PostgreSQL templates (SQLite's go with the folder)."""
        from django.db import connections

        with self._locked():
            done = self.folder / "done"
            count = int(done.read_text() or 0) + 1 if done.exists() else 1
            done.write_text(str(count))
            if count < workers:
                return
            for alias in aliases:
                connection = connections[alias]
                if connection.vendor != "sqlite":
                    with connection.creation._nodb_cursor() as cursor:
                        template = self._template_name(connection, connection.settings_dict["NAME"])
                        name = connection.ops.quote_name(template)
                        cursor.execute(f"DROP DATABASE IF EXISTS {name}")


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
