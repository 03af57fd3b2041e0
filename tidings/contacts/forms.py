"""Forms of the contacts pages. They shape input; the actions decide what is valid and say why.

Contact and company value forms are built from the workspace's field definitions, one form
field per definition with the widget of its type. They keep every value as typed (numbers and
dates as text), so a rejected form shows exactly what was entered next to the action's message.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Sequence
from functools import cache
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from tidings.contacts.models import Channel, DncReason, FieldGroup, FieldObject, FieldType, NoteType
from tidings.countries import country_choices, country_code
from tidings.inputs import INT64_MAX, is_ascii_digits
from tidings.privacy.categories import DataCategory, is_encrypted_category, needs_acknowledgment
from tidings.privacy.guard import GuardPolicy
from tidings.privacy.models import LawfulBasis
from tidings.validation import form_add_errors

# Values the system keeps (tracking, identification); forms show them, never edit them.
SYSTEM_ALIASES = frozenset({"last_active", "date_identified"})
BLANK = [("", "—")]

ADDRESS_ALIASES = frozenset({"address1", "address2", "city", "state", "zipcode", "country"})
GROUP_TITLES = ("Identity", "Address", "Custom fields")


def field_group(definition) -> str:
    """Return the title of the group a contact field is shown in: identity, address or custom."""
    if not definition.is_core:
        return "Custom fields"
    return "Address" if definition.alias in ADDRESS_ALIASES else "Identity"


SORTS = [
    ("-last_active", "Last active"),
    ("-id", "Newest"),
    ("id", "Oldest"),
    ("-points", "Most points"),
    ("points", "Fewest points"),
    ("company_name", "Company A–Z"),
    ("-company_name", "Company Z–A"),
    ("country", "Country A–Z"),
    ("-country", "Country Z–A"),
    ("email_domain", "Email domain A–Z"),
    ("-email_domain", "Email domain Z–A"),
]


@cache
def _timezones() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def _options(definition) -> list[tuple[str, str]]:
    return [(str(o.get("value")), str(o.get("label") or o.get("value"))) for o in definition.options or []]


def value_field(definition, *, owners: OwnerLookup | None = None) -> forms.Field:
    """Return the form field for one field definition, with the widget its type calls for.

    owners: how the "owner" field finds the workspace's members (without it, owner is a plain number).
    """
    kind = definition.type
    common = {"label": definition.label, "required": definition.is_required}
    if definition.alias == "owner" and definition.object == FieldObject.CONTACT and owners is not None:
        field = OwnerField(owners=owners, empty_label="Nobody", **common)
        field.widget.attrs["placeholder"] = "Nobody: type a name or email"
        return field
    if kind == FieldType.TEXTAREA:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == FieldType.NUMBER:
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if kind == FieldType.BOOLEAN:
        return forms.ChoiceField(choices=[*BLANK, ("yes", "Yes"), ("no", "No")], **common)
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.DATETIME:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "datetime-local"}), **common)
    if kind == FieldType.EMAIL:
        return forms.CharField(widget=forms.EmailInput(attrs={"autocomplete": "off"}), **common)
    if kind == FieldType.TEL:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}), **common)
    if kind == FieldType.URL:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "url"}), **common)
    if kind == FieldType.SELECT:
        return forms.ChoiceField(choices=[*BLANK, *_options(definition)], **common)
    if kind == FieldType.MULTISELECT:
        return forms.MultipleChoiceField(choices=_options(definition), widget=forms.CheckboxSelectMultiple, **common)
    if kind == FieldType.TIMEZONE:
        return forms.ChoiceField(choices=[*BLANK, *_timezones()], **common)
    return forms.CharField(max_length=191 if kind != FieldType.COUNTRY else 64, **common)


def initial_value(definition, value):
    """Return a stored value as its form field shows it."""
    if value is None:
        return ""
    if definition.type == FieldType.BOOLEAN:
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class ValuesForm(forms.Form):
    """A contact's or a company's values, one form field per (live, editable) field definition."""

    def __init__(self, definitions, *args, values=None, owners=None, suggest_urls=None, **kwargs):
        """suggest_urls: {"country": url, "company": url, "owner": url} of the autocomplete endpoints (views.*_suggest).

        owners: an OwnerLookup of the workspace, for a contact's owner (a member picked by name or email).
        """
        self.definitions = [d for d in definitions if d.alias not in SYSTEM_ALIASES]
        kwargs["initial"] = {d.alias: initial_value(d, (values or {}).get(d.alias)) for d in self.definitions}
        super().__init__(*args, **kwargs)
        suggest_urls = suggest_urls or {}
        for definition in self.definitions:
            self.fields[definition.alias] = value_field(definition, owners=owners)
            kind = "country" if definition.type == FieldType.COUNTRY else definition.alias
            if kind == "owner" and not isinstance(self.fields[definition.alias], OwnerField):
                kind = ""  # a company's field aliased "owner" is plain data, not a member
            if kind in ("country", "company", "owner"):
                attrs = suggest_attrs(suggest_urls.get(kind, ""), f"{definition.alias}-options")
                self.fields[definition.alias].widget.attrs.update(attrs)
            if definition.is_encrypted:
                self.fields[definition.alias].help_text = "Stored encrypted."

    def values(self, *, changed_only: bool) -> dict:
        """Return {alias: value} to hand to an action (only the changed ones when changed_only)."""
        names = self.changed_data if changed_only else list(self.fields)
        return {name: self.cleaned_data.get(name) for name in names}

    def add_action_errors(self, error: ValidationError) -> None:
        """Show an action's ValidationError next to the fields it names (elsewhere at the top)."""
        form_add_errors(self, error)

    def groups(self):
        """Yield (title, bound fields) for the identity, address and custom groups of a contact form."""
        grouped: dict[str, list] = {}
        for definition in self.definitions:
            grouped.setdefault(field_group(definition), []).append(self[definition.alias])
        return [(title, grouped[title]) for title in GROUP_TITLES if title in grouped]


def suggest_attrs(url: str, options_id: str) -> dict:
    """Return the attributes of an autocomplete input: it asks url (htmx) for a few <option>s as the user types.

    The options land in the <datalist> options_id; combobox.js shows them as an accessible
    listbox (arrow keys, Enter, Escape). Without that script the browser's own datalist shows them.
    """
    if not url:
        return {}
    return {
        "list": options_id,
        "autocomplete": "off",
        "data-combobox": "",
        "hx-get": url,
        "hx-trigger": "input changed delay:250ms",
        "hx-target": f"#{options_id}",
        "hx-swap": "innerHTML",
        "hx-sync": "this:replace",  # a slow answer never overwrites a newer one
    }


def _tag_suggest_attrs(url: str) -> dict:
    """Return the attributes of a tag input that asks url (htmx) for a few matching names as the user types."""
    return suggest_attrs(url, "tag-suggestions")


OWNER_SUGGESTIONS = 20  # members an owner input's suggestions show; a workspace may have many members
_BRACKETED_EMAIL = re.compile(r"<([^<>]*)>\s*$")
_ID_DIGITS = 18  # an id longer than this is beyond a BIGINT and names nobody


def member_label(user) -> str:
    """Return how an owner input shows a member: "Name <email>", or the email alone when unnamed."""
    name = " ".join(user.get_full_name().split())
    return f"{name} <{user.email}>" if name else user.email


class OwnerLookup:
    """The workspace's members as an owner input names them: by "Name <email>", email, full name or id.

    One or two small queries per lookup, never the list of every member, so a workspace with
    thousands of members renders and checks an owner as fast as one with three.
    """

    def __init__(self, workspace):
        self.workspace = workspace
        self._labels: dict[int, str] = {}
        self._resolved: dict[str, int] = {}  # a form cleans its owner twice (is_valid, then changed_data)

    def suggestions(self, typed: str, *, limit: int = OWNER_SUGGESTIONS) -> list[tuple[str, str]]:
        """Return up to limit (label, "") options of the members whose name or email holds the words typed."""
        from tidings.accounts.selectors import members_matching

        members = members_matching(self.workspace, typed, limit=limit)
        return [(member_label(m.user), "") for m in members]

    def label(self, user_id: int) -> str:
        """Return the label of the member with this user id, or "" when no member of the workspace has it."""
        if user_id not in self._labels:
            from tidings.accounts.selectors import members_by_id

            user = members_by_id(self.workspace, [user_id]).get(user_id)
            self._labels[user_id] = member_label(user) if user else ""
        return self._labels[user_id]

    def resolve(self, text: str) -> int:
        """Return the user id of the member text names; raise ValidationError when none does, or several.

        text is what the input holds: a picked "Name <email>", an email typed in full, a full name,
        or an id. The messages never repeat the text: it may be someone's name or address.
        """
        text = " ".join(text.replace("\x00", "").split())
        if text not in self._resolved:
            self._resolved[text] = self._resolve(text)
        return self._resolved[text]

    def _resolve(self, text: str) -> int:
        from tidings.accounts.selectors import member_by_email, members_named

        bracketed = _BRACKETED_EMAIL.search(text)
        email = bracketed.group(1).strip() if bracketed else (text if "@" in text else "")
        if email:
            membership = member_by_email(self.workspace, email)
            if membership is not None:
                self._labels[membership.user_id] = member_label(membership.user)
                return membership.user_id
        elif is_ascii_digits(text) and len(text) <= _ID_DIGITS:
            if self.label(int(text)):
                return int(text)
        else:
            named = members_named(self.workspace, text)
            if len(named) == 1:
                return named[0].user_id
            if named:
                raise ValidationError("Several members have that name: pick one from the list, or type the email.")
        raise ValidationError("No member of this workspace matches: pick one from the list, or type a member's email.")


class OwnerInput(forms.TextInput):
    """The text input of an OwnerField: a stored id or keyword shows as the member's label or the keyword's."""

    def __init__(self, *, owners: OwnerLookup, keywords: dict[str, str], attrs=None):
        super().__init__(attrs)
        self.owners = owners
        self.keywords = keywords

    def format_value(self, value):
        text = "" if value is None else str(value)
        if not text:
            return None
        if text in self.keywords:
            return self.keywords[text]
        if is_ascii_digits(text) and len(text) <= _ID_DIGITS:
            return self.owners.label(int(text)) or text
        return text


class OwnerField(forms.CharField):
    """A workspace member picked by typing a name or email (an autocomplete input); cleans to the user id as text.

    keywords: {value: label} the input also takes (the filter's "me" → "Me", "none" → "Nobody"), either
    spelling, ignoring case; empty_label: the word that means no one ("Nobody", the filter's "Anyone"),
    which cleans to "". check_ids=False lets an id through unchecked, for a filter whose selector
    scopes ids to the workspace anyway.
    """

    def __init__(
        self,
        *,
        owners: OwnerLookup,
        keywords: dict[str, str] | None = None,
        empty_label: str = "",
        check_ids: bool = True,
        **kwargs,
    ):
        kwargs.setdefault("max_length", 400)
        self.keywords = dict(keywords or {})
        super().__init__(widget=OwnerInput(owners=owners, keywords=self.keywords), **kwargs)
        self.owners = owners
        self.empty_label = empty_label
        self.check_ids = check_ids
        self._spellings = {"": "", empty_label.casefold(): ""}
        for value, label in self.keywords.items():
            self._spellings.update({value.casefold(): value, label.casefold(): value})

    def clean(self, value) -> str:
        text = " ".join(super().clean(value).split())
        if text.casefold() in self._spellings:
            value = self._spellings[text.casefold()]
            if value == "" and self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return value
        if not self.check_ids and is_ascii_digits(text) and len(text) <= _ID_DIGITS:
            return text
        return str(self.owners.resolve(text))

    def has_changed(self, initial, data) -> bool:
        """Return whether data names another member than initial (a label of the same member is no change)."""
        before = "" if initial in (None, "") else str(initial)
        try:
            return self.clean(data) != before
        except ValidationError:
            return True


class ContactFilterForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, max_length=500, widget=forms.TextInput(attrs={"data-shortcut-search": ""})
    )
    # A tag name typed with suggestions (views.tag_suggest), never a list of every tag: one
    # request could create 100,000 tags, and each list page rendered them all.
    tag = forms.CharField(label="Tag", required=False, max_length=100)
    # A member typed with suggestions (views.owner_suggest), never a list of every member; also
    # "Me" and "Nobody". The list view puts the id back into its links, not the name typed.
    owner = forms.CharField(label="Owner", required=False)
    # The workspace's stages by name (the view passes them); an id typed into the URL that is no stage is refused.
    stage = forms.TypedChoiceField(label="Stage", required=False, coerce=int, empty_value=None)
    # A picker of ISO 3166 codes; a name or code typed into the URL ("Germany", "de") is read as its code.
    country = forms.CharField(label="Country", required=False, max_length=64, widget=forms.Select)
    dnc = forms.ChoiceField(label="Do not contact", required=False, choices=[("", "Any"), *Channel.choices])
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        owners: OwnerLookup,
        stages: Sequence[tuple[int, str]] = (),
        tag_suggest_url: str = "",
        owner_suggest_url: str = "",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        stage = self.fields["stage"]
        assert isinstance(stage, forms.TypedChoiceField)
        stage.choices = [("", "Any"), *((str(pk), name) for pk, name in stages)]
        self.fields["tag"].widget.attrs.update(_tag_suggest_attrs(tag_suggest_url))
        keywords = {"me": "Me", "none": "Nobody"}
        owner = OwnerField(
            owners=owners, keywords=keywords, empty_label="Anyone", check_ids=False, label="Owner", required=False
        )
        owner.widget.attrs.update({"placeholder": "Anyone", **suggest_attrs(owner_suggest_url, "owner-filter-options")})
        self.fields["owner"] = owner
        self.fields["country"].widget.choices = [("", "Any"), *((c, f"{n} ({c})") for c, n in country_choices())]

    def clean_country(self) -> str:
        value = (self.cleaned_data.get("country") or "").strip()
        if not value:
            return ""
        code = country_code(value)
        if code is None:
            raise ValidationError("Choose a country from the list.")
        if self.data.get("country") != code:  # the picker shows the country read, not the text typed
            self.data = cast(QueryDict, self.data).copy()
            self.data["country"] = code
        return code

    def selector_arguments(self, *, me: int | None = None) -> dict:
        """Return the search and filters for contacts_page from the cleaned form (me: who "owner: me" is)."""
        data = self.cleaned_data
        filters: dict = {}
        if (data.get("tag") or "").strip():
            filters["tag"] = data["tag"].strip()
        if data.get("owner") == "none":
            filters["unowned"] = True
        elif data.get("owner") == "me":
            filters["owner_id"] = me if me is not None else 0
        elif data.get("owner"):
            filters["owner_id"] = int(data["owner"])  # a member's id (OwnerField)
        if data.get("stage"):
            filters["stage_id"] = data["stage"]
        if data.get("country"):
            filters["country"] = data["country"].strip()
        if data.get("dnc"):
            filters["dnc"] = data["dnc"]
        return {"search": data.get("q") or "", "filters": filters, "order": data.get("sort") or "-last_active"}


class BulkForm(forms.Form):
    ACTIONS = [
        ("tag_add", "Add tag"),
        ("tag_remove", "Remove tag"),
        ("export_csv", "Export as CSV"),
        ("export_json", "Export as JSON"),
        ("delete", "Delete"),
    ]
    SCOPES = [("page", "The selected contacts"), ("matching", "Every contact matching the filters")]

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], label="Contacts", required=False)
    action = forms.ChoiceField(choices=ACTIONS)
    tag = forms.CharField(required=False, max_length=100)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # "matching": the action applies to the list's filters (query, the list's query string), not to ids.
    scope = forms.ChoiceField(choices=SCOPES, required=False)
    query = forms.CharField(required=False, max_length=4000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The ids are checked against the workspace by the actions; any number is a valid choice here.
        ids = cast(forms.TypedMultipleChoiceField, self.fields["ids"])
        ids.valid_value = lambda value: is_ascii_digits(str(value)) and int(value) <= INT64_MAX  # type: ignore[method-assign]
        # Actions other apps registered (tidings.contacts.bulk_actions); the view checks their permission.
        from tidings.contacts.bulk_actions import registered

        action = cast(forms.ChoiceField, self.fields["action"])
        action.choices = [*self.ACTIONS, *((extra.value, extra.label) for extra in registered())]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("action", "").startswith("tag_") and not (data.get("tag") or "").strip():
            self.add_error("tag", "name the tag")
        if data.get("scope") != "matching" and not data.get("ids") and "ids" not in self.errors:
            self.add_error("ids", "select contacts")
        return data


class TagForm(forms.Form):
    add = forms.CharField(required=False, max_length=100, label="Add a tag")
    remove = forms.CharField(required=False, max_length=100)


class NoteForm(forms.Form):
    type = forms.ChoiceField(choices=NoteType.choices, initial=NoteType.GENERAL)
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
        error_messages={"required": "Write the note first."},
    )


class DncForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)
    reason = forms.ChoiceField(choices=DncReason.choices, initial=DncReason.MANUAL)
    comment = forms.CharField(required=False, max_length=255)


class CompanyLinkForm(forms.Form):
    company = forms.TypedChoiceField(coerce=int, choices=[], label="Company")
    primary = forms.BooleanField(required=False, label="Primary company")

    def __init__(self, *args, company_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        company = cast(forms.TypedChoiceField, self.fields["company"])
        company.choices = list(company_choices)
        company.valid_value = lambda value: str(value).isdigit()  # type: ignore[method-assign]  # the action checks the id


class MergeForm(forms.Form):
    other = forms.CharField(
        label="The other contact's email address or id",
        max_length=255,
        help_text="Email is matched exactly (it is stored encrypted; see the search help).",
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


_CATEGORY_HELP = (
    "Identifying categories are stored encrypted under each contact's own key: such a field can only be "
    "found by an exact value if it is a unique identifier, and cannot be filtered or sorted. This is fixed "
    "when the field is created."
)


class FieldCreateForm(forms.Form):
    label = forms.CharField(max_length=120)
    alias = forms.CharField(
        max_length=64, help_text="Permanent name used by the API and imports: lowercase letters, digits, underscores."
    )
    type = forms.ChoiceField(choices=FieldType.choices)
    category = forms.ChoiceField(
        choices=DataCategory.choices, required=False, label="Personal-data category", help_text=_CATEGORY_HELP
    )
    group = forms.ChoiceField(choices=FieldGroup.choices, initial=FieldGroup.CORE, required=False)
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For select fields: one option per line.",
    )
    is_unique_identifier = forms.BooleanField(required=False, label="Unique identifier (used to match on import)")
    is_publicly_updatable = forms.BooleanField(required=False, label="Publicly updatable (forms and tracking)")
    is_required = forms.BooleanField(required=False, label="Required")
    is_listable = forms.BooleanField(required=False, initial=True, label="Listable")
    acknowledge_sensitive = forms.BooleanField(
        required=False,
        label="I confirm we have a lawful basis and safeguards for financial, health or government-id data",
    )

    def __init__(self, *args, object: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.object = object
        if object == "company":
            allowed = [(v, label) for v, label in DataCategory.choices if not is_encrypted_category(v)]
            cast(forms.ChoiceField, self.fields["category"]).choices = allowed
            self.fields["category"].help_text = "Company fields hold business data and are never encrypted."

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if needs_acknowledgment(data.get("category", "")) and not data.get("acknowledge_sensitive"):
            self.add_error("acknowledge_sensitive", "tick this to define a field of this category")
        return data

    def action_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["options"] = [line.strip() for line in (data.get("options") or "").splitlines() if line.strip()]
        data["object"] = self.object
        data["group"] = data.get("group") or FieldGroup.CORE
        return data


class FieldEditForm(forms.Form):
    """The side panel's form: a field's label, flags and (for select fields) options."""

    label = forms.CharField(max_length=120)
    options = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="One option per line; at least one."
    )
    is_required = forms.BooleanField(required=False, label="Required")
    is_unique_identifier = forms.BooleanField(required=False, label="Unique identifier (used to match on import)")
    is_listable = forms.BooleanField(required=False, label="Listable")
    is_publicly_updatable = forms.BooleanField(required=False, label="Publicly updatable (forms and tracking)")

    FLAGS = ("is_required", "is_unique_identifier", "is_listable", "is_publicly_updatable")

    def __init__(self, *args, field, **kwargs):
        initial = {name: getattr(field, name) for name in ("label", *self.FLAGS)}
        initial["options"] = "\n".join(str(o.get("value", "")) for o in field.options or [])
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.field = field
        if field.type not in (FieldType.SELECT, FieldType.MULTISELECT):
            del self.fields["options"]

    def changes(self) -> dict:
        """Return the attributes that differ from the field's, for field_update."""
        data = self.cleaned_data
        changes = {name: data[name] for name in ("label", *self.FLAGS) if data[name] != getattr(self.field, name)}
        if "options" in self.fields:
            options = [line.strip() for line in (data.get("options") or "").splitlines() if line.strip()]
            if options != [str(o.get("value", "")) for o in self.field.options or []]:
                changes["options"] = options
        return changes


class FieldLabelForm(forms.Form):
    label = forms.CharField(max_length=120)


class StageForm(forms.Form):
    """A contact stage's settings; the stage actions check them again (both APIs write through them too)."""

    name = forms.CharField(max_length=100, help_text="For example “Lead”, “Qualified”, “Customer”.")
    description = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    weight = forms.IntegerField(
        min_value=-(2**31) + 1,
        max_value=2**31 - 1,
        initial=0,
        help_text="Stages are listed by weight, lowest first (Mautic's order).",
    )
    is_published = forms.BooleanField(
        label="Published", required=False, initial=True, help_text="An unpublished stage is offered nowhere new."
    )

    @classmethod
    def for_stage(cls, stage) -> StageForm:
        return cls(initial={"name": stage.name, "description": stage.description, "weight": stage.weight,
                            "is_published": stage.is_published})  # fmt: skip

    def values(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "description": data.get("description") or "", "weight": data["weight"],
                "is_published": bool(data.get("is_published"))}  # fmt: skip


class FieldDeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the field's alias to confirm", max_length=64)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8 or Latin-1; comma, semicolon, tab or pipe separated.")


class ImportMappingForm(forms.Form):
    lawful_basis = forms.ChoiceField(
        choices=[("", "Choose…"), *LawfulBasis.choices],
        label="Lawful basis under which this list was collected",
        help_text="Recorded on every contact this import writes.",
    )
    tags = forms.CharField(
        required=False, max_length=500, help_text="Tags for every imported contact, comma separated."
    )
    overwrite_with_blank = forms.BooleanField(
        required=False, label="Empty cells clear existing values (otherwise they are left alone)"
    )

    def __init__(self, *args, headers, targets, initial_mapping, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = []
        for index, header in enumerate(headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                choices=[("", "Do not import"), *targets], required=False, label=header or f"Column {index + 1}"
            )
            self.initial.setdefault(name, initial_mapping[index] if index < len(initial_mapping) else "")
            self.columns.append(name)

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(name) or "" for name in self.columns]

    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.cleaned_data.get("tags") or "").split(",") if t.strip()]


class GuardPolicyForm(forms.Form):
    guard_policy = forms.ChoiceField(
        choices=GuardPolicy.choices,
        widget=forms.RadioSelect,
        label="When an import finds card numbers, IBANs, national ids or health terms",
    )
