"""Tags, and adding them to or removing them from contacts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from tidings.contacts.actions.common import MAX_TAG_NAME, _atomic, _audit, _member_id, _require
from tidings.contacts.actions.events import _event_rows
from tidings.contacts.actions.state import _State
from tidings.contacts.event_types import EventType
from tidings.contacts.fields import (
    is_empty,
)
from tidings.contacts.models import (
    Contact,
    ContactTag,
    Tag,
)
from tidings.events.store import EventRow
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace


def _apply_tags(
    states: Sequence[_State], common: Sequence[str] = (), *, record: bool = False, by: int | None = None
) -> tuple[int, int]:
    """Apply each state's tags plus common tags (a leading "-" removes); return (links added, removed).

    record writes a tag added/removed event per link that really changed (links already there,
    or already absent, write none), with by (the acting member's user id) when given.
    """
    shared = _split_tags(common)
    wanted = {s.contact.id: _split_tags([*common, *s.tags]) if s.tags else shared for s in states}
    names = {name for add, remove in wanted.values() for name in add | remove}
    if not names:
        return 0, 0
    tags = _tags_by_name(names, create={name for add, _ in wanted.values() for name in add})
    tag_ids = {name: tag.id for name, tag in tags.items()}
    workspace_id = require_workspace().id
    links = [(workspace_id, contact_id, tag_ids[name]) for contact_id, (add, _) in wanted.items() for name in add]
    added_links: list[tuple[int, int]] = []
    if record and links:
        present = set(
            ContactTag.objects.filter(
                contact_id__in={link[1] for link in links}, tag_id__in={link[2] for link in links}
            ).values_list("contact_id", "tag_id")
        )
        added_links = [(c, t) for _, c, t in links if (c, t) not in present]
    bulk.insert(ContactTag, ["workspace_id", "contact_id", "tag_id"], links, ignore_conflicts=True)
    # One condition per distinct set of tags to remove (an import's common "-tag" is one), not per contact.
    removals: dict[frozenset[int], list[int]] = {}
    for contact_id, (_, remove) in wanted.items():
        ids = frozenset(tag_ids[name] for name in remove if name in tag_ids)
        if ids:
            removals.setdefault(ids, []).append(contact_id)
    removed = 0
    removed_links: list[tuple[int, int]] = []
    if removals:
        condition = Q()
        for ids, contact_ids in removals.items():
            condition |= Q(contact_id__in=contact_ids, tag_id__in=sorted(ids))
        gone = ContactTag.objects.filter(condition)
        if record:
            removed_links = list(gone.values_list("contact_id", "tag_id"))
        removed, _ = gone.delete()
    if added_links or removed_links:
        changes = [(EventType.TAG_ADDED, link) for link in added_links]
        changes += [(EventType.TAG_REMOVED, link) for link in removed_links]
        _event_rows(EventRow(type=code, contact_id=c, data={"tag_id": t, "by": by}) for code, (c, t) in changes)
    return len(links), removed


def _split_tags(tags: Iterable[str]) -> tuple[set[str], set[str]]:
    """Return (names to add, names to remove) of tags, "-name" removing.

    Raise ValidationError on a name longer than a tag holds (never cut: a cut name is another
    tag) or more distinct names than settings.TIDINGS_MAX_TAGS_PER_REQUEST.
    """
    add, remove = set(), set()
    for raw in tags:
        name = str(raw).strip()
        if name.startswith("-"):
            name = name[1:].strip()
            if name:
                remove.add(_tag_name(name, field="tags"))
                add.discard(name)
        elif name:
            add.add(_tag_name(name, field="tags"))
            remove.discard(name)
    limit = settings.TIDINGS_MAX_TAGS_PER_REQUEST
    if len(add) + len(remove) > limit:
        raise ValidationError({"tags": [f"at most {limit} tags at a time"]})
    return add, remove


def _tag_errors(tags: Sequence[str]) -> dict[str, list[str]]:
    """Return {"tags": [messages]} when _split_tags refuses tags, else {}."""
    try:
        _split_tags(tags)
    except ValidationError as error:
        return error.message_dict
    return {}


def _tag_name(name: str, *, field: str = "name") -> str:
    """Return name when a tag can hold it; raise ValidationError when it is longer than MAX_TAG_NAME."""
    if len(name) > MAX_TAG_NAME:
        raise ValidationError({field: [f"a tag name has at most {MAX_TAG_NAME} characters"]})
    return name


def _tags_by_name(names: set[str], *, create: set[str]) -> dict[str, Tag]:
    existing = {t.name: t for t in Tag.objects.filter(name__in=list(names))}
    missing = [n for n in create if n not in existing]
    if missing:
        workspace_id = require_workspace().id
        Tag.objects.bulk_create([Tag(workspace_id=workspace_id, name=n) for n in missing], ignore_conflicts=True)
        existing.update({t.name: t for t in Tag.objects.filter(name__in=missing)})
    return existing


def _row_tags(value) -> list[str]:
    if is_empty(value):
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.replace(",", "|").split("|")) if part]
    return [str(v) for v in value]


def contact_tags_change(contact_id: int, tags: Sequence[str], *, principal, request=None) -> tuple[int, int]:
    """Add and remove tags of a contact (a leading "-" removes, Mautic's convention); return (added, removed).

    Raise Contact.DoesNotExist for an id not in this workspace.
    """
    return contacts_tag([contact_id], tags, principal=principal, request=request, _single=True)


def contacts_tag(contact_ids: Iterable[int], tags: Sequence[str], *, principal, request=None, _single=False):
    """Apply tag changes to several contacts (bulk action); ids not in this workspace are skipped.

    Return (links added, links removed).
    """
    _require(principal, "contacts:edit")
    ids = list(contact_ids)
    with _atomic():
        found = list(Contact.objects.filter(pk__in=ids).values_list("id", flat=True))
        if _single and not found:
            raise Contact.DoesNotExist(f"contact {ids[0]} does not exist")
        states = [_State(contact=Contact(id=i), profile={}, key=None, tags=list(tags)) for i in found]
        before = ContactTag.objects.filter(contact_id__in=found).count()
        _, removed = _apply_tags(states, record=True, by=_member_id(principal))
        added = ContactTag.objects.filter(contact_id__in=found).count() - before + removed
        add, remove = _split_tags(tags)
        _audit(
            "contact.tags_changed",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=found[0] if len(found) == 1 else "",
            contacts=len(found),
            added=sorted(t.id for t in Tag.objects.filter(name__in=list(add))),
            removed=sorted(t.id for t in Tag.objects.filter(name__in=list(remove))),
        )
    return added, removed


def tag_create(name: str, *, description: str = "", principal, request=None) -> Tag:
    """Create a tag; raise ValidationError on an empty or taken name."""
    _require(principal, "contacts:edit")
    name = _tag_name((name or "").strip())
    if not name or name.startswith("-"):
        raise ValidationError({"name": "a tag name is required and cannot start with '-'"})
    if Tag.objects.filter(name=name).exists():
        raise ValidationError({"name": "a tag with this name exists"})
    with _atomic():
        tag = Tag.objects.create(workspace_id=require_workspace().id, name=name, description=description)
        _audit("tag.created", principal=principal, request=request, target_type="tag", target_id=tag.id)
    return tag


def tag_update(tag_id: int, *, name: str | None = None, description: str | None = None, principal, request=None):
    """Rename or describe a tag; raise Tag.DoesNotExist, or ValidationError on a taken or empty name."""
    _require(principal, "contacts:edit")
    tag = Tag.objects.get(pk=tag_id)
    if name is not None:
        name = _tag_name(name.strip())
        if not name or name.startswith("-"):
            raise ValidationError({"name": "a tag name is required and cannot start with '-'"})
        if Tag.objects.filter(name=name).exclude(pk=tag_id).exists():
            raise ValidationError({"name": "a tag with this name exists"})
        tag.name = name
    if description is not None:
        tag.description = description
    with _atomic():
        tag.save()
        _audit("tag.updated", principal=principal, request=request, target_type="tag", target_id=tag.id)
    return tag


def tag_delete(tag_id: int, *, principal, request=None) -> None:
    """Delete a tag and remove it from every contact; raise Tag.DoesNotExist."""
    _require(principal, "contacts:edit")
    tag = Tag.objects.get(pk=tag_id)
    with _atomic():
        # No per-contact event for a tag's deletion: the contacts' changed time tells segments' refresh.
        holders = ContactTag.objects.filter(tag_id=tag.id).values("contact_id")
        Contact.objects.filter(id__in=holders).update(updated_at=timezone.now())
        removed, _ = ContactTag.objects.filter(tag_id=tag.id).delete()
        tag.delete()
        _audit("tag.deleted", principal=principal, request=request, target_type="tag", target_id=tag_id, links=removed)
