import pytest

from tidings.tenancy.context import NoWorkspaceSet, use_workspace


def test_alice_opens_the_acme_dashboard(alice_client, acme):
    response = alice_client.get(f"/w/{acme.slug}/")
    assert response.status_code == 200
    assert b"Acme" in response.content


def test_alice_gets_404_for_globex(alice_client, globex):
    assert alice_client.get(f"/w/{globex.slug}/").status_code == 404


def test_tenant_query_without_workspace_raises(acme):
    from tidings.tenancy.models import TenantModel

    assert TenantModel  # the base exists; concrete models are tested in their apps
    with pytest.raises(NoWorkspaceSet):
        from tidings.tenancy.context import require_workspace

        require_workspace()
    with use_workspace(acme):
        from tidings.tenancy.context import require_workspace

        assert require_workspace().region == "eu"
