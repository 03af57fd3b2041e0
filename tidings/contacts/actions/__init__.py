"""Every write about contacts, companies, fields, tags, notes, Do-Not-Contact and events.

This module and tidings.contacts.selectors are the contacts app's interface: imports, the UI,
the native API and the Mautic-compatible API all call these functions, so they all behave the
same. Every function works in the workspace in context (tidings.tenancy.context.use_workspace;
NoWorkspaceSet without one), runs in one transaction on the workspace's region database, and
writes an audit entry holding ids and counts only, never personal data.

Every action takes the principal that acts (a member, a token, an OAuth application, or
tidings.accounts.permissions.system_principal() for tasks and commands) as a required keyword
and checks first that it acts in the workspace in context and holds the action's permission
(contacts:edit; contacts:delete to delete or merge away a contact, to delete a company or a
field; settings:manage for the contact settings; contacts:edit for stages), raising PermissionDenied before anything
is read or written. Surfaces only map that error: UI, native API, Mautic API and tasks agree.

Contact values are passed as {alias: value} with the field aliases of field_definitions()
("email", "firstname", "company", custom aliases...). Values are checked against the field's
type; an unknown or archived alias, a value of the wrong type or a duplicate of another
contact's unique identifier raises django.core.exceptions.ValidationError keyed by alias.
An empty value ("" or None) clears a field.

Identifying values are encrypted under the contact's own data key before they reach the
database; the contact id is part of each ciphertext's associated data, so ids are allocated
before the insert (tidings.tenancy.bulk.allocate_ids).

The package has one module per concern: common (transactions, audit, the permission check),
schema (field definitions), state (values prepared, sealed and indexed on their way to the
database), contacts (one contact), bulk_upsert (many contacts), tags, notes, dnc, companies,
duplicates, events, stages, contact_settings and saved_views (a member's list settings). Import from the
package: its public names are the interface.
"""

from tidings.contacts.actions.bulk_upsert import (
    BulkResult,
    RowError,
    contacts_bulk_upsert,
)
from tidings.contacts.actions.common import (
    BATCH_SIZE,
    DNC_COMMENT_MAX,
    IDENTIFYING_ALIASES,
    MAX_EVENT_DATA_BYTES,
    MAX_LABEL,
    MAX_TAG_NAME,
    OWNER,
)
from tidings.contacts.actions.companies import (
    CompanyLinks,
    companies_link_by_name,
    company_create,
    company_delete,
    company_link,
    company_unlink,
    company_update,
)
from tidings.contacts.actions.contact_settings import (
    contact_settings_update,
)
from tidings.contacts.actions.contacts import (
    POINTS_OPERATORS,
    contact_create,
    contact_delete,
    contact_merge,
    contact_points_change,
    contact_update,
    contact_upsert,
    contacts_delete,
    contacts_stage_change,
)
from tidings.contacts.actions.dnc import (
    dnc_add,
    dnc_remove,
)
from tidings.contacts.actions.duplicates import (
    duplicate_dismiss,
)
from tidings.contacts.actions.events import (
    EventRow,
    events_append,
    events_purge_before,
)
from tidings.contacts.actions.notes import (
    note_add,
    note_delete,
    note_edit,
)
from tidings.contacts.actions.saved_views import (
    list_preference_save,
    saved_view_delete,
    saved_view_save,
)
from tidings.contacts.actions.schema import (
    field_archive,
    field_create,
    field_delete,
    field_index_set,
    field_update,
    fields_ensure_core,
    load_fields,
)
from tidings.contacts.actions.stages import (
    MAX_STAGE_NAME,
    stage_create,
    stage_delete,
    stage_update,
)
from tidings.contacts.actions.state import (
    EMAIL_UNIQUE_CONSTRAINT,
    EmailTaken,
)
from tidings.contacts.actions.tags import (
    contact_tags_change,
    contacts_tag,
    tag_create,
    tag_delete,
    tag_update,
)
from tidings.contacts.fields import NOTE, PROFILE

__all__ = [
    "list_preference_save",
    "saved_view_delete",
    "saved_view_save",
    "CompanyLinks",
    "companies_link_by_name",
    "BATCH_SIZE",
    "DNC_COMMENT_MAX",
    "IDENTIFYING_ALIASES",
    "MAX_EVENT_DATA_BYTES",
    "MAX_LABEL",
    "MAX_TAG_NAME",
    "NOTE",
    "OWNER",
    "PROFILE",
    "field_archive",
    "field_create",
    "field_delete",
    "field_index_set",
    "field_update",
    "fields_ensure_core",
    "load_fields",
    "EMAIL_UNIQUE_CONSTRAINT",
    "EmailTaken",
    "contact_tags_change",
    "contacts_tag",
    "tag_create",
    "tag_delete",
    "tag_update",
    "EventRow",
    "events_append",
    "events_purge_before",
    "POINTS_OPERATORS",
    "contact_create",
    "contact_delete",
    "contact_merge",
    "contact_points_change",
    "contacts_stage_change",
    "MAX_STAGE_NAME",
    "stage_create",
    "stage_delete",
    "stage_update",
    "contact_update",
    "contact_upsert",
    "contacts_delete",
    "BulkResult",
    "RowError",
    "contacts_bulk_upsert",
    "note_add",
    "note_delete",
    "note_edit",
    "dnc_add",
    "dnc_remove",
    "duplicate_dismiss",
    "company_create",
    "company_delete",
    "company_link",
    "company_unlink",
    "company_update",
    "contact_settings_update",
]
