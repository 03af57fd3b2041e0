import pytest

from tidings.tenancy.context import NoWorkspaceSet, use_workspace


def test_alice_opens_the_acme_dashboard(alice_client, acme):
    response = alice_client.get(f"/w/{acme.slug}/")
    assert response.status_code == 200
    assert b"Acme" in response.content


def test_alice_gets_404_for_globex(alice_client, globex):
    assert alice_client.get(f"/w/{globex.slug}/").status_code == 404


def test_use_workspace_sets_and_restores_the_context(acme):
    from tidings.tenancy.context import current_workspace, require_workspace

    with use_workspace(acme):
        assert require_workspace().region == "eu"
        assert require_workspace().db_alias == "region_eu"
    assert current_workspace() is None
    with pytest.raises(NoWorkspaceSet):
        require_workspace()


def test_bulk_create_fills_in_the_current_workspace(acme):
    from tidings.contacts.models import Tag

    with use_workspace(acme):
        Tag.objects.bulk_create([Tag(name="vip"), Tag(name="newsletter")])
        assert set(Tag.objects.values_list("workspace_id", flat=True)) == {acme.id}


def test_bulk_create_refuses_a_row_of_another_workspace(acme, globex):
    from tidings.contacts.models import Tag

    with use_workspace(acme), pytest.raises(PermissionError):
        Tag.objects.bulk_create([Tag(name="vip", workspace_id=globex.id)])


def test_save_refuses_a_row_of_another_workspace(acme, globex):
    from tidings.contacts.models import Tag

    with use_workspace(acme), pytest.raises(PermissionError):
        Tag(name="vip", workspace_id=globex.id).save()


def test_rows_never_move_to_another_workspace(acme, globex):
    from tidings.contacts.models import Tag

    with use_workspace(acme):
        Tag.objects.create(name="vip")
        with pytest.raises(PermissionError):
            Tag.objects.update(workspace_id=globex.id)


def test_tenant_manager_without_workspace_raises():
    from tidings.contacts.models import Tag

    with pytest.raises(NoWorkspaceSet):
        list(Tag.objects.all())
