"""Importing settings writes nothing; `tidings init` and `tidings migrate` create the var folder and its keys."""

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tidings import cli, conf

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def fresh_var(tmp_path, monkeypatch):
    """Point TIDINGS_VAR_DIR at a folder that does not exist yet, with no key in the environment."""
    var = tmp_path / "var"
    monkeypatch.setenv("TIDINGS_VAR_DIR", str(var))
    monkeypatch.delenv("TIDINGS_MASTER_KEY", raising=False)
    monkeypatch.delenv("TIDINGS_SECRET_KEY", raising=False)
    return var


@pytest.fixture
def no_master_key(fresh_var, settings):
    """A process that started without a master key: settings found none, and there is no file."""
    settings.TIDINGS_MASTER_KEY = None
    return fresh_var


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def init() -> str:
    out = io.StringIO()
    call_command("init", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(databases=[])
def test_tidings_help_in_an_empty_folder_writes_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_") and k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's tidings, run from a folder outside it
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "tidings.cli", "help"], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert "init" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_init_creates_the_keys_owner_only_in_an_owner_only_folder(fresh_var):
    init()

    assert mode(fresh_var) == 0o700
    assert {path.name: mode(path) for path in fresh_var.glob("*.key")} == {"master.key": 0o600, "secret.key": 0o600}
    assert len(conf.read_secret(fresh_var / "master.key")) == 32


def test_init_never_overwrites_an_existing_key(fresh_var):
    init()
    before = {path.name: path.read_bytes() for path in fresh_var.glob("*.key")}

    output = init()

    assert {path.name: path.read_bytes() for path in fresh_var.glob("*.key")} == before
    assert "nothing to create" in output


def test_init_creates_no_file_for_a_key_set_in_the_environment(fresh_var, monkeypatch):
    monkeypatch.setenv("TIDINGS_MASTER_KEY", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=")

    init()

    assert sorted(path.name for path in fresh_var.glob("*.key")) == ["secret.key"]


def test_migrate_on_a_fresh_var_folder_creates_the_keys(fresh_var):
    call_command("migrate", database="region_us", verbosity=0)

    assert sorted(path.name for path in fresh_var.glob("*.key")) == ["master.key", "secret.key"]


def test_init_refuses_to_make_a_new_master_key_beside_existing_workspaces(acme, fresh_var):
    with pytest.raises(CommandError, match="restore the master key from backup"):
        init()

    assert not (fresh_var / "master.key").exists()


@pytest.mark.django_db(databases=[])
def test_a_missing_master_key_says_to_run_tidings_init(no_master_key):
    with pytest.raises(conf.MissingKeyError, match=r"master.key does not exist .* run `tidings init`"):
        conf.use_master_key()


@pytest.mark.django_db(databases=[])
def test_a_missing_secret_key_says_to_run_tidings_init_when_used(fresh_var):
    secret = conf.secret_key()  # reading settings must not fail: `tidings help` and `tidings init` need none

    with pytest.raises(conf.MissingKeyError, match=r"secret.key does not exist .* run `tidings init`"):
        bool(secret)


def test_a_key_created_after_start_up_is_used_by_the_same_process(no_master_key):
    init()

    assert conf.use_master_key() == conf.read_secret(no_master_key / "master.key")


def test_the_worker_stops_at_start_with_the_fix_when_the_master_key_is_missing(no_master_key, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["tidings", "worker", "--batch"])

    with pytest.raises(SystemExit) as stopped:
        cli.main()

    assert "run `tidings init`" in str(stopped.value.code)
