"""Every read of contact stages (a contact's lifecycle stage: Contact.stage_id) that other apps may use.

As in tidings.contacts.selectors: every function reads the workspace in context (NoWorkspaceSet
without one), and an id of another workspace raises Stage.DoesNotExist, exactly like an id that
does not exist. The writes are tidings.contacts.actions' stage_create, stage_update, stage_delete
and contacts_stage_change.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Count

from tidings.contacts import search_query
from tidings.contacts.models import Contact, Stage
from tidings.contacts.selectors import DEFAULT_LIMIT, MAX_LIMIT
from tidings.pagination import Page, page_of

STAGE_ORDERS = ("weight", "-weight", "name", "-name", "id", "-id")


def stage_names(ids: set[int]) -> dict[int, str]:
    """Return {stage id: name} of those of ids in this workspace (one query)."""
    return dict(Stage.objects.filter(id__in=list(ids)).values_list("id", "name"))


def stages(*, published_only: bool = False) -> list[Stage]:
    """Return the workspace's stages by weight, then name (published_only: those offered for new choices)."""
    queryset = Stage.objects.all()
    if published_only:
        queryset = queryset.filter(is_published=True)
    return list(queryset.order_by("weight", "name", "id"))


def stage_get(stage_id: int) -> Stage:
    """Return one stage; raise Stage.DoesNotExist for an id not in this workspace (or not a whole number)."""
    try:
        return Stage.objects.get(pk=int(stage_id))
    except (TypeError, ValueError, OverflowError):
        raise Stage.DoesNotExist(f"stage {stage_id!r} does not exist") from None


def stage_contact_counts() -> dict[int, int]:
    """Return {stage id: how many contacts are in it} for the workspace's stages that hold any (one grouped query)."""
    rows = Contact.objects.filter(stage_id__isnull=False).order_by().values_list("stage_id").annotate(n=Count("id"))
    return dict(rows)


def contact_stage_id(contact_id: int) -> int | None:
    """Return the id of a contact's stage (None: none); raise Contact.DoesNotExist for an id not in this workspace."""
    return Contact.objects.filter(pk=contact_id).values_list("stage_id", flat=True).get()


def stages_by_id(ids: Iterable[int | None]) -> dict[int, Stage]:
    """Return {id: Stage} for the ids that are this workspace's stages (one query; None ids ignored)."""
    wanted = {int(i) for i in ids if i is not None}
    return {s.id: s for s in Stage.objects.filter(pk__in=sorted(wanted))} if wanted else {}


def stages_page(
    *,
    search: str = "",
    order: str = "weight",
    start: int | None = 0,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
    published_only: bool = False,
) -> Page:
    """Return a page of stages in order: start..start+limit with how many match (Mautic's API), or by keyset.

    search is a name prefix; order one of STAGE_ORDERS (by weight, the default, name or id; "-"
    for descending, ties by id); published_only keeps the published stages. With start=None the
    page follows the cursor after (the native API), without a total. Raise ValidationError on
    another order, a search too long or a cursor this list did not issue.
    """
    if order not in STAGE_ORDERS:
        raise ValidationError({"order": f"choose one of {', '.join(STAGE_ORDERS)}"})
    search_query.check_search_length(search)
    queryset = Stage.objects.filter(is_published=True) if published_only else Stage.objects.all()
    if search:
        queryset = queryset.filter(name__istartswith=search.strip())
    return page_of(
        queryset, ordering=order, after=after, start=start, limit=limit, max_limit=MAX_LIMIT, count=start is not None
    )
