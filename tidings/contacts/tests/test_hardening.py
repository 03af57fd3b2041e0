"""The contacts data layer's weak spots, fixed: common-word search, list orders the indexes serve,
exact-email search through the blind index, batched rewrites, required fields in bulk, one contact
per email under concurrency, and stalled imports.

Query plans are asserted with EXPLAIN (QUERY PLAN) on the engine the suite runs on: SQLite by
default, PostgreSQL when TIDINGS_DATABASE_URL_* point there (sorting is then priced out with
enable_sort=off, so a Sort node in the plan means no index can give the order).
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tidings.contacts import actions, imports, search_query, selectors
from tidings.contacts.actions import state as match_state
from tidings.contacts.models import Contact, ContactImport, ImportStatus
from tidings.contacts.tests.test_import import _csv, _upload
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

REGION = "region_eu"  # Acme's region


def _people(count, *, firstname="Robin", domain="people.example", **extra):
    return [
        {"email": f"person{i}@{domain}", "firstname": firstname, "lastname": f"Surname{i}", **extra}
        for i in range(count)
    ]


def _page_query(run) -> str:
    """Return the SQL of the last SELECT on the contact table that run() issues."""
    with CaptureQueriesContext(connections[REGION]) as captured:
        run()
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT") and "LIMIT" in q["sql"]]
    contact_selects = [sql for sql in selects if 'FROM "contacts_contact"' in sql]
    return contact_selects[-1]


def _plan(sql: str, *, price_out_sorts: bool = False) -> str:
    """Return the query plan of sql on the region database, one line per step.

    On PostgreSQL sequential scans are priced out (the test tables are tiny) and, with
    price_out_sorts, sorts too: a Sort node left in the plan means no index gives the order.
    """
    connection = connections[REGION]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        if price_out_sorts:
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_sort")
        cursor.execute("RESET enable_seqscan")
        return plan


def _analyze(*tables: str) -> None:
    """Give PostgreSQL's planner the statistics of the tables as they are now (SQLite plans without them)."""
    if connections[REGION].vendor == "postgresql":
        with connections[REGION].cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")


def _sorts(plan: str) -> bool:
    return "USE TEMP B-TREE FOR ORDER BY" in plan or any(
        line.strip().lstrip("-> ").startswith(("Sort", "Incremental Sort")) for line in plan.splitlines()
    )


# ---------------------------------------------------------------------------------------------- 1. name words


@pytest.fixture
def small_windows(monkeypatch):
    """Make name-search windows tiny, so a few dozen contacts span many windows."""
    monkeypatch.setattr(search_query, "NAME_WINDOW", 2)


def test_a_common_first_name_lists_its_newest_contacts_first(in_acme, small_windows):
    ids = actions.contacts_bulk_upsert(
        _people(30), lawful_basis="consent", return_ids=True, principal=system()
    ).contact_ids

    page = selectors.contact_search("robin", limit=5)

    assert [c.id for c in page.items] == sorted(ids, reverse=True)[:5]


def test_keyset_pages_of_a_name_search_cover_every_match_once(in_acme, small_windows):
    ids = actions.contacts_bulk_upsert(
        _people(23), lawful_basis="consent", return_ids=True, principal=system()
    ).contact_ids
    actions.contacts_bulk_upsert(
        _people(5, firstname="Kit", domain="others.example"), lawful_basis="consent", principal=system()
    )
    seen, after = [], None
    while True:
        page = selectors.contacts_page(search="robin", limit=4, after=after)
        seen.extend(c.id for c in page.items)
        if not page.has_more:
            break
        after = page.next_cursor

    assert seen == sorted(ids, reverse=True)


def test_a_name_search_ascending_by_id_pages_in_id_order(in_acme, small_windows):
    ids = actions.contacts_bulk_upsert(
        _people(9), lawful_basis="consent", return_ids=True, principal=system()
    ).contact_ids

    first = selectors.contacts_page(search="robin", order="id", limit=4)
    second = selectors.contacts_page(search="robin", order="id", limit=4, after=first.next_cursor)

    assert [c.id for c in first.items + second.items] == sorted(ids)[:8]


def test_a_two_word_search_finds_only_contacts_with_both_words(in_acme, small_windows):
    actions.contacts_bulk_upsert(_people(20), lawful_basis="consent", principal=system())
    both = [
        actions.contact_create({"firstname": "Robin", "lastname": "Fairweather"}, principal=system()).id
        for _ in range(3)
    ]
    actions.contacts_bulk_upsert(
        [{"firstname": "Sam", "lastname": "Fairweather", "email": f"s{i}@people.example"} for i in range(4)],
        lawful_basis="consent",
        principal=system(),
    )

    page = selectors.contact_search("robin fairweather", limit=10)

    assert [c.id for c in page.items] == sorted(both, reverse=True)


def test_a_name_search_with_a_filter_keeps_looking_past_windows_the_filter_empties(in_acme, small_windows):
    wanted = actions.contact_create({"firstname": "Robin", "email": "robin@rare.example"}, principal=system()).id
    actions.contacts_bulk_upsert(_people(25), lawful_basis="consent", principal=system())  # newer, other domain

    page = selectors.contacts_page(search="robin", filters={"domain": "rare.example"}, limit=10)

    assert [c.id for c in page.items] == [wanted]
    assert selectors.contacts_count(search="robin", filters={"domain": "rare.example"}) == 1


def test_a_name_search_reads_the_newest_ids_of_the_word_from_the_token_index(in_acme):
    names = ["Robin", "Kit", "Sam", "Alex", "Jo", "Max", "Noor", "Ren", "Sky", "Tam", "Val", "Wren"]
    people = [{**person, "firstname": names[i % 12]} for i, person in enumerate(_people(600))]
    actions.contacts_bulk_upsert(people, lawful_basis="consent", principal=system())  # a word 1 in 12 contacts share
    _analyze("contacts_contact", "contacts_contactsearchtoken")

    plan = _plan(_page_query(lambda: selectors.contact_search("robin", limit=50)))

    assert "contacts_tok_word_idx" in plan, plan


# ---------------------------------------------------------------------------------------------- 2. list orders


@pytest.mark.parametrize("order", ["-points", "points", "-last_active", "last_active", "-id", "-email_domain"])
def test_a_list_page_walks_an_index_in_its_order_instead_of_sorting(in_acme, order):
    actions.contacts_bulk_upsert(_people(5), lawful_basis="consent", principal=system())

    plan = _plan(_page_query(lambda: selectors.contacts_page(order=order, limit=50)), price_out_sorts=True)

    assert not _sorts(plan), plan


def test_never_active_contacts_come_last_by_latest_activity_and_first_by_earliest(in_acme):
    never, recent, older = (
        actions.contact_create({"firstname": n}, principal=system()).id for n in ("Never", "Recent", "Older")
    )
    now = timezone.now()
    Contact.objects.filter(pk=recent).update(last_active=now)
    Contact.objects.filter(pk=older).update(last_active=now - datetime.timedelta(days=3))

    latest = selectors.contacts_page(order="-last_active", limit=1)
    latest_rest = selectors.contacts_page(order="-last_active", limit=5, after=latest.next_cursor)
    earliest = selectors.contacts_page(order="last_active", limit=5)

    assert [c.id for c in latest.items + latest_rest.items] == [recent, older, never]
    assert [c.id for c in earliest.items] == [never, older, recent]


# ---------------------------------------------------------------------------------------------- 3. exact email


def test_an_exact_email_search_uses_the_email_blind_index_in_the_lists_default_order(in_acme):
    # Before: SQLite walked contacts_c_active_idx probing `id IN (subquery)` for every contact.
    actions.contacts_bulk_upsert(_people(400), lawful_basis="consent", principal=system())
    _analyze("contacts_contact")

    sql = _page_query(lambda: selectors.contacts_page(search="person3@people.example", order="-last_active"))
    plan = _plan(sql)

    assert "contacts_c_email_unique" in plan, plan
    assert "contacts_c_active" not in plan, plan


def test_an_exact_phone_search_still_finds_the_contact_by_phone_or_mobile(in_acme):
    by_phone = actions.contact_create({"firstname": "Pat", "phone": "+1 555 0100"}, principal=system()).id
    by_mobile = actions.contact_create({"firstname": "Lee", "mobile": "+1 555 0100"}, principal=system()).id

    page = selectors.contacts_page(search="phone:15550100", order="-last_active")

    assert {c.id for c in page.items} == {by_phone, by_mobile}


# ---------------------------------------------------------------------------------------------- 4. rewrites


def test_deleting_an_encrypted_field_rewrites_its_contacts_with_one_update_statement(in_acme):
    actions.field_create(alias="nickname", label="Nickname", category="user.name", principal=system())
    actions.contacts_bulk_upsert(_people(250, nickname="Robbie"), lawful_basis="consent", principal=system())

    with CaptureQueriesContext(connections[REGION]) as captured:
        touched = actions.field_delete(actions.load_fields()["nickname"].id, confirm="nickname", principal=system())

    updates = [q["sql"] for q in captured.captured_queries if 'UPDATE "contacts_contact"' in q["sql"]]
    assert touched == 250
    # One statement for the batch (an executemany on SQLite, an UPDATE ... FROM unnest() on PostgreSQL);
    # bulk_update sent a CASE WHEN statement per 200 rows.
    assert len(updates) == 1
    assert "CASE" not in updates[0]
    assert "nickname" not in selectors.contact_get(selectors.contact_ids()[0]).fields


# ---------------------------------------------------------------------------------------------- 5. required fields


@pytest.fixture
def member_number(in_acme):
    return actions.field_create(alias="member_no", label="Member number", is_required=True, principal=system())


def test_a_bulk_row_creating_a_contact_without_a_required_field_is_reported(member_number):
    result = actions.contacts_bulk_upsert(
        [{"email": "ok@people.example", "member_no": "7"}, {"email": "missing@people.example"}],
        lawful_basis="consent",
        return_ids=True,
        principal=system(),
    )

    assert (result.created, result.updated) == (1, 0)
    assert [(e.index, e.errors) for e in result.errors] == [(1, {"member_no": ["this field is required"]})]
    assert result.contact_ids[1] is None
    assert selectors.contacts_count(search="missing@people.example") == 0


def test_a_bulk_update_without_the_required_field_keeps_the_stored_value(member_number):
    contact = actions.contact_create({"email": "kept@people.example", "member_no": "7"}, principal=system())

    result = actions.contacts_bulk_upsert(
        [{"email": "kept@people.example", "city": "Leeds"}], lawful_basis="consent", principal=system()
    )

    assert (result.updated, result.errors) == (1, [])
    assert selectors.contact_get(contact.id).get("member_no") == "7"


def test_a_bulk_update_clearing_a_required_field_is_refused_and_changes_nothing(member_number):
    contact = actions.contact_create(
        {"email": "kept@people.example", "member_no": "7", "city": "York"}, principal=system()
    )

    result = actions.contacts_bulk_upsert(
        [{"email": "kept@people.example", "member_no": "", "city": "Leeds"}],
        lawful_basis="consent",
        overwrite_with_blank=True,
        principal=system(),
    )

    assert [e.errors for e in result.errors] == [{"member_no": ["this field is required"]}]
    assert (selectors.contact_get(contact.id).get("member_no"), selectors.contact_get(contact.id).get("city")) == (
        "7",
        "York",
    )


# ---------------------------------------------------------------------------------------------- 6. one per email


@pytest.fixture
def racing(monkeypatch):
    """Make the write path blind to existing contacts, as a transaction that started before theirs is."""
    real = match_state._match_owners

    def not_yet_visible(identifier_lists):
        _, owners = real(identifier_lists)
        return [(None, None)] * len(identifier_lists), {}

    monkeypatch.setattr(match_state, "_match_owners", not_yet_visible)
    return real


def test_a_create_racing_another_create_of_the_same_email_reports_the_duplicate(in_acme, racing):
    first = actions.contact_create({"email": "twin@people.example", "firstname": "Ada"}, principal=system())

    with pytest.raises(ValidationError) as refused:
        actions.contact_create({"email": "TWIN@people.example", "firstname": "Eve"}, principal=system())

    assert refused.value.message_dict == {"email": ["another contact already has this email"]}
    assert [c.id for c in selectors.contacts_page(search="twin@people.example").items] == [first.id]


def test_an_upsert_racing_a_create_of_the_same_email_updates_that_contact(in_acme, racing, monkeypatch):
    first = actions.contact_create({"email": "twin@people.example", "firstname": "Ada"}, principal=system())
    calls = []

    def blind_once(identifier_lists):  # the retry sees the committed row, as it would after the race
        calls.append(1)
        if len(calls) == 1:
            return [(None, None)] * len(identifier_lists), {}
        return racing(identifier_lists)

    monkeypatch.setattr(match_state, "_match_owners", blind_once)
    contact, created = actions.contact_upsert({"email": "twin@people.example", "city": "Leeds"}, principal=system())

    assert (contact.id, created) == (first.id, False)
    assert selectors.contact_get(first.id).get("city") == "Leeds"
    assert selectors.contacts_count() == 1


def test_a_bulk_batch_racing_a_create_of_the_same_email_is_matched_again(in_acme, monkeypatch):
    first = actions.contact_create({"email": "twin@people.example", "firstname": "Ada"}, principal=system())
    real, calls = match_state._match_owners, []

    def blind_once(identifier_lists):
        calls.append(1)
        if len(calls) == 1:
            return [(None, None)] * len(identifier_lists), {}
        return real(identifier_lists)

    monkeypatch.setattr(match_state, "_match_owners", blind_once)
    result = actions.contacts_bulk_upsert(
        [{"email": "twin@people.example", "city": "Leeds"}, {"email": "new@people.example"}],
        lawful_basis="consent",
        principal=system(),
    )

    assert (result.created, result.updated, result.errors) == (1, 1, [])
    assert selectors.contact_get(first.id).get("city") == "Leeds"


def test_an_upsert_matched_by_another_identifier_cannot_take_someone_elses_email(in_acme):
    # Ordered before email, so a row is matched by its member number first.
    actions.field_create(
        alias="member_no", label="Member number", is_unique_identifier=True, order=0, principal=system()
    )
    actions.contact_create({"email": "ada@people.example", "member_no": "1"}, principal=system())
    actions.contact_create({"email": "eve@people.example", "member_no": "2"}, principal=system())

    with pytest.raises(ValidationError) as refused:
        actions.contact_upsert({"member_no": "1", "email": "eve@people.example"}, principal=system())
    result = actions.contacts_bulk_upsert(
        [{"member_no": "1", "email": "eve@people.example"}], lawful_basis="consent", principal=system()
    )

    assert refused.value.message_dict == {"email": ["another contact already has this email"]}
    assert [e.errors for e in result.errors] == [{"email": ["another contact already has this email"]}]


def test_email_cannot_stop_being_a_unique_identifier(in_acme):
    email = actions.load_fields()["email"]

    with pytest.raises(ValidationError) as refused:
        actions.field_update(email.id, is_unique_identifier=False, principal=system())

    assert "is_unique_identifier" in refused.value.message_dict


# ---------------------------------------------------------------------------------------------- 7. stalled imports


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: no exception handler runs."""


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def killed_import(alice_client, in_acme, var_dir, monkeypatch):
    """An import of 25 rows whose worker died after two batches of 10, an hour ago."""
    rows = [["email", "lastname"]] + [[f"person{i}@people.example", f"Number{i}"] for i in range(25)]
    job_id = int(_upload(alice_client, _csv(rows))["Location"].split("/")[-3])
    imports.import_configure(job_id, mapping=["email", "lastname"], lawful_basis="contract", principal=system())
    real_upsert, calls = imports.contacts_bulk_upsert, []

    def die_on_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise WorkerKilled
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(imports, "contacts_bulk_upsert", die_on_the_third_batch)
    with pytest.raises(WorkerKilled):
        imports.import_run(job_id, batch_rows=10, principal=system())
    monkeypatch.setattr(imports, "contacts_bulk_upsert", real_upsert)
    ContactImport.objects.filter(pk=job_id).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    return job_id


def _sweep(django_capture_on_commit_callbacks):
    from tidings.contacts.tasks import recover_stalled_imports
    from tidings.tenancy.context import no_workspace

    # As in the worker: the periodic job runs with no workspace set and must cross workspaces itself.
    with no_workspace(), django_capture_on_commit_callbacks(using=REGION, execute=True):
        return recover_stalled_imports.call()


def test_a_killed_import_stays_running_until_the_sweep_requeues_it_and_it_completes(
    killed_import, immediate_tasks, django_capture_on_commit_callbacks
):
    stuck = selectors.import_get(killed_import)

    handled = _sweep(django_capture_on_commit_callbacks)
    job = selectors.import_get(killed_import)

    assert (stuck.status, stuck.rows_done) == (ImportStatus.RUNNING, 20)
    assert handled == 1
    assert (job.status, job.rows_done, job.created_count, job.recoveries) == (ImportStatus.COMPLETED, 25, 25, 1)
    assert selectors.contacts_count() == 25


def test_an_import_that_keeps_stalling_is_marked_failed_and_can_be_resumed(
    killed_import, django_capture_on_commit_callbacks
):
    ContactImport.objects.filter(pk=killed_import).update(recoveries=imports.MAX_RECOVERIES)

    _sweep(django_capture_on_commit_callbacks)
    job = selectors.import_get(killed_import)

    assert job.status == ImportStatus.FAILED
    assert job.failure.startswith("stalled after row 20")
    assert imports.import_resume(killed_import, principal=system()).status == ImportStatus.QUEUED


def test_a_running_import_with_a_recent_heartbeat_is_left_alone(killed_import, django_capture_on_commit_callbacks):
    ContactImport.objects.filter(pk=killed_import).update(heartbeat_at=timezone.now())

    handled = _sweep(django_capture_on_commit_callbacks)

    assert handled == 0
    assert selectors.import_get(killed_import).status == ImportStatus.RUNNING


def test_a_run_whose_checkpoint_another_run_advanced_stops_without_writing(killed_import):
    stale = selectors.import_get(killed_import)
    ContactImport.objects.filter(pk=killed_import).update(rows_done=25)  # the other run finished the file

    with pytest.raises(imports._Superseded):
        imports._commit_batch(stale, [(22, ["person20@people.example", "Number20"])], system())

    assert selectors.contacts_count() == 20


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_two_concurrent_creates_of_one_email_on_postgresql_leave_one_contact(acme):
    """Two threads both find no contact with the email, then both insert: the database keeps one."""
    import threading

    if connections[REGION].vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race cannot happen there")
    real, both_matched = match_state._match_owners, threading.Barrier(2, timeout=120)

    def match_then_wait(identifier_lists):
        result = real(identifier_lists)
        both_matched.wait()  # each saw no owner; now both go on to insert
        return result

    outcomes = []

    def create(name):
        try:
            with use_workspace(acme):
                outcomes.append(
                    actions.contact_create({"email": "twin@people.example", "firstname": name}, principal=system()).id
                )
        except ValidationError as error:
            outcomes.append(error.message_dict)
        finally:
            connections.close_all()

    actions_match = match_state._match_owners
    match_state._match_owners = match_then_wait
    try:
        threads = [threading.Thread(target=create, args=(name,)) for name in ("Ada", "Eve")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        match_state._match_owners = actions_match

    with use_workspace(acme):
        assert selectors.contacts_count(search="twin@people.example") == 1
    refused = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    assert refused == [{"email": ["another contact already has this email"]}]
    assert len(outcomes) == 2
