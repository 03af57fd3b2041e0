import pytest


@pytest.fixture
def write_entries(acme):
    """Append n entries to Acme's chain, alternating member and system actions."""
    from tidings.audit.actions import audit_record

    def write(n: int, action: str = "thing.done", actor=None):
        for number in range(n):
            audit_record(
                action if number % 2 else "member.poked",
                workspace=acme,
                actor_type="user" if actor else "system",
                actor_id=getattr(actor, "pk", None),
                target_type="thing",
                target_id=number,
            )

    return write
