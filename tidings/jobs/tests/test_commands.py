"""The `tidings` console commands, run through call_command."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tidings import demo
from tidings.accounts.models import Membership, User
from tidings.audit.models import AuditEntry
from tidings.tenancy.models import Workspace


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


# migrate


def test_migrate_without_database_migrates_the_global_and_every_region_database():
    output = run("migrate", verbosity=1)

    assert "Database default:" in output
    assert "Database region_us:" in output
    assert "Database region_eu:" in output


def test_migrate_with_database_migrates_only_that_one():
    output = run("migrate", database="region_us", verbosity=1)

    assert "Database" not in output
    assert "No migrations to apply" in output


# createworkspace


def test_createworkspace_creates_a_workspace_in_its_region_with_its_owner(make_user):
    owner = make_user("olga.owner@initech.example")

    output = run("createworkspace", "Initech", "--slug", "initech", "--region", "us", "--owner", owner.email)

    workspace = Workspace.objects.get(slug="initech")
    assert workspace.region == "us"
    assert Membership.objects.get(workspace=workspace).user == owner
    assert "initech" in output


def test_createworkspace_derives_the_slug_from_the_name():
    run("createworkspace", "Umbrella Labs", "--region", "eu")

    assert Workspace.objects.get(slug="umbrella-labs").name == "Umbrella Labs"


def test_createworkspace_refuses_a_taken_slug(acme):
    with pytest.raises(CommandError, match="slug"):
        run("createworkspace", "Other Acme", "--slug", "acme", "--region", "us")


def test_createworkspace_refuses_an_unknown_owner():
    with pytest.raises(CommandError, match="no user"):
        run("createworkspace", "Initech", "--region", "us", "--owner", "nobody@initech.invalid")
    assert not Workspace.objects.filter(slug="initech").exists()


def test_createworkspace_refuses_an_unknown_region():
    with pytest.raises(CommandError):
        run("createworkspace", "Initech", "--region", "mars")


# createuser


def test_createuser_creates_a_user_who_can_sign_in():
    run("createuser", "nina@initech.example", "--password", "purple monkey dishwasher")

    assert User.objects.get(email="nina@initech.example").check_password("purple monkey dishwasher")


def test_createuser_adds_the_user_to_a_workspace_with_a_role(acme):
    run(
        "createuser",
        "mark@acme.example",
        "--password",
        "purple monkey dishwasher",
        "--workspace",
        "acme",
        "--role",
        "marketer",
    )

    membership = Membership.objects.get(user__email="mark@acme.example")
    assert (membership.workspace, membership.role) == (acme, "marketer")


def test_createuser_creates_staff():
    run("createuser", "sam@tidings.example", "--password", "purple monkey dishwasher", "--staff")

    assert User.objects.get(email="sam@tidings.example").is_staff


def test_createuser_refuses_a_weak_password():
    with pytest.raises(CommandError, match="password"):
        run("createuser", "weak@initech.example", "--password", "12345")
    assert not User.objects.filter(email="weak@initech.example").exists()


def test_createuser_refuses_a_taken_email(alice):
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", alice.email, "--password", "purple monkey dishwasher")


def test_createuser_refuses_an_unknown_workspace_before_creating_anyone():
    with pytest.raises(CommandError, match="no workspace"):
        run(
            "createuser",
            "lost@initech.example",
            "--password",
            "purple monkey dishwasher",
            "--workspace",
            "nowhere",
            "--role",
            "analyst",
        )
    assert not User.objects.filter(email="lost@initech.example").exists()


def test_createuser_needs_a_role_with_a_workspace(acme):
    with pytest.raises(CommandError, match="together"):
        run("createuser", "half@acme.example", "--password", "purple monkey dishwasher", "--workspace", "acme")


def test_createuser_without_password_and_without_a_terminal_says_what_to_do(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--password"):
        run("createuser", "quiet@initech.example")


# demo


def test_demo_creates_the_demo_workspace_and_prints_the_login():
    output = run("demo")

    workspace = Workspace.objects.get(slug="demo")
    assert (workspace.name, workspace.region) == ("Acme Demo", "eu")
    roles = dict(Membership.objects.filter(workspace=workspace).values_list("user__email", "role"))
    assert roles == {
        "demo@tidings.example": "owner",
        "maya.marketer@tidings.example": "marketer",
        "arun.analyst@tidings.example": "analyst",
    }
    assert "/w/demo/" in output
    assert "/accounts/login/" in output
    password = output.split("password", 1)[1].split()[0]
    assert User.objects.get(email="demo@tidings.example").check_password(password)


def test_demo_runs_again_without_duplicates_and_with_a_fresh_password():
    first = run("demo").split("password", 1)[1].split()[0]
    second = run("demo").split("password", 1)[1].split()[0]

    assert first != second
    assert Workspace.objects.filter(slug="demo").count() == 1
    assert Membership.objects.filter(workspace__slug="demo").count() == 3
    owner = User.objects.get(email="demo@tidings.example")
    assert owner.check_password(second) and not owner.check_password(first)


def test_demo_writes_audit_entries_in_the_demo_workspace(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using="default", execute=True):  # forwards the members' entries
        run("demo")

    workspace = Workspace.objects.get(slug="demo")
    actions = set(
        AuditEntry.objects.using("region_eu").filter(workspace_id=workspace.pk).values_list("action", flat=True)
    )
    assert {"workspace.created", "member.added", "demo.seeded"} <= actions


def test_demo_runs_each_seeder_inside_the_demo_workspace(monkeypatch):
    from tidings.tenancy.context import require_workspace

    seen = []
    monkeypatch.setattr(demo, "SEEDERS", [lambda workspace: seen.append((workspace.slug, require_workspace().slug))])

    run("demo")

    assert seen == [("demo", "demo")]
