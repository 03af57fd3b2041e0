from tidings.tests.principals import system
from tidings.tests.world import Probe

GLOBAL_ROUTES = {
    "mautic_compat:oauth_token": "OAuth2 token endpoint; an app bound elsewhere is refused (test_oauth.py)",
    "mautic_compat:oauth_authorize": "OAuth2 consent; non-members and other workspaces' apps get 404 (test_oauth.py)",
    # Native contact routes that name no object: the credential's own workspace is listed or written.
    # Batches answer per item; Acme's ids are 404 items for bob (tidings/contacts/tests/test_api.py).
    "api:v1:list_contacts": "no URL names a workspace: the credential's own contacts are listed",
    "api:v1:create_contact": "creates in the credential's own workspace",
    "api:v1:upsert_contact": "matches and writes in the credential's own workspace only",
    "api:v1:batch_create_contacts": "creates in the credential's own workspace",
    "api:v1:batch_update_contacts": "another workspace's ids are per-item 404s (test_api.py)",
    "api:v1:batch_delete_contacts": "another workspace's ids are per-item 404s (test_api.py)",
    "api:v1:list_companies": "no URL names a workspace: the credential's own companies are listed",
    "api:v1:create_company": "creates in the credential's own workspace",
    "api:v1:list_fields": "no URL names a workspace: the credential's own fields are listed",
    "api:v1:create_field": "creates in the credential's own workspace",
    "api:v1:list_tags": "no URL names a workspace: the credential's own tags are listed",
    "api:v1:create_tag": "creates in the credential's own workspace",
    "api:v1:list_stages": "no URL names a workspace: the credential's own stages are listed",
    "api:v1:create_stage": "creates in the credential's own workspace",
}


def setup(world):
    """Give Acme a contact with a note, a company, a tag and custom fields for bob to aim at."""
    from tidings.contacts import actions
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        contact = actions.contact_create(
            {"email": "charles@difference.example", "firstname": "Charles"}, tags=["api-probe"], principal=system()
        )
        company = actions.company_create({"companyname": "Difference Engines"}, principal=system())
        actions.company_link(contact.id, company.id, principal=system())
        note = actions.note_add(contact.id, "Prefers punched cards.", principal=system())
        field = actions.field_create(alias="api_probe_colour", label="Favourite colour", principal=system())
        company_field = actions.field_create(
            alias="api_probe_sector", label="Sector", object="company", principal=system()
        )
        actions.dnc_add(contact.id, channel="email", principal=system())
        from tidings.contacts.selectors import tags_by_name

        tag = tags_by_name(["api-probe"])["api-probe"]
        stage = actions.stage_create({"name": "acme-probe-stage", "description": "Acme's funnel"}, principal=system())
        actions.contacts_stage_change([contact.id], stage.id, principal=system())
    world.markers.update({"Difference Engines", "api-probe", "api_probe_colour", "Favourite colour",
                          "acme-probe-stage"})  # fmt: skip
    _segments_setup(world, contact, tag)
    world.objects.update(
        api_contact=contact,
        api_company=company,
        api_note=note,
        api_tag=tag,
        api_stage=stage,
        api_field=field,
        api_company_field=company_field,
    )


def _segments_setup(world, contact, tag):
    """Give Acme a segment of its probe contact (one filter on an encrypted field, so sealed) and each
    attacker a segment of his own contact, named with his marker (lists show it)."""
    from tidings.accounts.selectors import principal_for_user
    from tidings.segments import actions as segment_actions
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        segment = segment_actions.segment_create(
            principal=system(),
            name="acme-probe-segment",
            definition={
                "match": "all",
                "filters": [
                    {"kind": "tag", "operator": "in", "value": [tag.id]},
                    {"kind": "field", "field": "email", "operator": "equals", "value": "charles@difference.example"},
                ],
            },
        )
    world.markers.update({"acme-probe-segment", "charles@difference.example"})
    world.objects["api_segment"] = segment
    # The attackers' segments are made now, after Acme's ids began: an id of their own in Acme's
    # range would read as a leak. They get ids far beyond LATER_IDS instead (segments have no
    # foreign keys, and nothing else here creates half a million segments).
    from tidings.segments.models import Segment
    from tidings.tests.world import LATER_IDS

    for index, attacker in enumerate(world.attackers):
        with use_workspace(attacker.workspace):
            own = Segment.objects.create(
                id=LATER_IDS + 500_000 + index,
                name=attacker.marker,
                alias=attacker.marker,
                definition={
                    "match": "all",
                    "filters": [{"kind": "tag", "operator": "in", "value": [attacker.own["tag"]]}],
                },
            )
            segment_actions.segment_rebuild(own.pk, principal=principal_for_user(attacker.user, attacker.workspace))
        world.objects[f"segment_of_{attacker.name}"] = own


def segment_of(world):
    """Return the id of Acme's probe segment."""
    return world.objects["api_segment"].id


def own_segment_of(world):
    """Return the id of the attacker's own segment (world.attacker is bob or mallory)."""
    return world.objects[f"segment_of_{world.attacker}"].id


def _both(method, tail, data=None):
    """Probe /m/acme/api/<tail> with bob's token and Basic credentials, and his own bases (the bare
    /api/<tail> and /m/globex/api/<tail>) with Acme's ids."""

    def probes(world):
        acme = f"/m/{world.acme.slug}/api/{tail(world)}"
        bare = f"/api/{tail(world)}"
        own = f"/m/{world.globex.slug}/api/{tail(world)}"
        return [
            Probe(method, acme, actor="bob_token", data=data),
            Probe(method, acme, actor="bob_basic", data=data),
            Probe(method, bare, actor="bob_token", data=data),
            Probe(method, bare, actor="bob_basic", data=data),
            Probe(method, own, actor="bob_token", data=data),
        ]

    return probes


def _workspace_base_only(method, tail, data=None):
    """Probe /m/acme/api/<tail> only: on the bare base this route lists or writes bob's own workspace."""

    def probes(world):
        acme = f"/m/{world.acme.slug}/api/{tail(world)}"
        return [Probe(method, acme, actor="bob_token", data=data), Probe(method, acme, actor="bob_basic", data=data)]

    return probes


def _native(method, tail, data=None):
    def probes(world):
        return [
            Probe(method, f"/api/v1/{tail(world)}", actor="bob_token", data=data),
            Probe(method, f"/api/v1/{tail(world)}", actor="bob_basic", data=data),
        ]

    return probes


def _contact(world):
    return world.objects["api_contact"].id


def _company(world):
    return world.objects["api_company"].id


def _note(world):
    return world.objects["api_note"].id


def _tag(world):
    return world.objects["api_tag"].id


def _stage(world):
    return world.objects["api_stage"].id


def _field(world):
    return world.objects["api_field"].id


def _company_field(world):
    return world.objects["api_company_field"].id


def _acme_campaign(world):
    return world.objects["acme_campaign"]


def _acme_campaign_contact(world):
    return world.objects["acme_campaign_contact"]


def _own(method, tail, data=None, status=None, listed=False):
    """Probe the attacker's own workspace through both bases: lists show his data, Acme's ids touch nothing.

    data may be a function of the world (a batch naming Acme's ids).
    """

    def probes(world):
        shows = world.own_marker if listed else None
        data_ = data(world) if callable(data) else data
        return [
            Probe(method, f"/m/{world.globex.slug}/api/{tail(world)}", "bob_token", data_, status, shows),
            Probe(method, f"/api/{tail(world)}", "bob_basic", data_, status, shows),
        ]

    return probes


def _own_native(method, tail, data=None, status=None, listed=False):
    def probes(world):
        shows = world.own_marker if listed else None
        data_ = data(world) if callable(data) else data
        return [
            Probe(method, f"/api/v1/{tail(world)}", actor, data_, status, shows) for actor in ("bob_token", "bob_basic")
        ]

    return probes


def _list(tail):
    return _own("GET", tail, status=200, listed=True)


# The attacker in his own workspace: lists and searches show only his data, batches naming
# Acme's ids change nothing of Acme's.
OWN_WORKSPACE = {
    "mautic_compat:contacts_list": lambda world: [
        *_list(lambda w: "contacts")(world),
        *_own("GET", lambda w: "contacts?search=tag:api-probe", status=200)(world),
        *_own("GET", lambda w: "contacts?search=company:Difference Engines", status=200)(world),
        *_own("GET", lambda w: "contacts?search=segment:acme-probe-segment", status=200)(world),
    ],
    "mautic_compat:contacts_list_owners": _own("GET", lambda w: "contacts/list/owners", status=200),
    "mautic_compat:contacts_list_fields": _own("GET", lambda w: "contacts/list/fields", status=200),
    "mautic_compat:contacts_batch_edit": _own(
        "PATCH", lambda w: "contacts/batch/edit", lambda w: [{"id": _contact(w), "firstname": "Eve"}]
    ),
    "mautic_compat:contacts_batch_delete": _own("DELETE", lambda w: f"contacts/batch/delete?ids[]={_contact(w)}"),
    "mautic_compat:segments_list": lambda world: [
        *_list(lambda w: "segments")(world),
        *_own("GET", lambda w: "segments?search=acme-probe", status=200)(world),
    ],
    "mautic_compat:segments_new": _own(
        "POST",
        lambda w: "segments/new",
        lambda w: {
            "name": "Probe",
            "filters": [{"field": "leadlist", "operator": "in", "properties": {"filter": [str(segment_of(w))]}}],
        },
        status=400,
    ),
    "mautic_compat:segments_batch_edit": _own(
        "PATCH", lambda w: "segments/batch/edit", lambda w: [{"id": segment_of(w), "name": "Eve"}]
    ),
    "mautic_compat:segments_batch_delete": _own("DELETE", lambda w: f"segments/batch/delete?ids[]={segment_of(w)}"),
    "mautic_compat:segments_add_contacts": _own(
        "POST", lambda w: f"segments/{own_segment_of(w)}/contacts/add", lambda w: {"ids": [_contact(w)]}, status=200
    ),
    "mautic_compat:campaigns_list": _own("GET", lambda w: "campaigns", status=200),
    # a campaign of his own whose source is Acme's segment: refused, naming nothing of Acme
    "mautic_compat:campaigns_new": _own(
        "POST",
        lambda w: "campaigns/new",
        lambda w: {
            "name": "Probe",
            "lists": [{"id": w.objects["acme_campaign_segment"]}],
            "events": [{"id": "new_1", "type": "campaign.addremovelead", "properties": {"removeFrom": ["this"]}}],
        },
        status=422,
    ),
    "mautic_compat:notes_list": _list(lambda w: "notes"),
    "mautic_compat:notes_batch_delete": _own("DELETE", lambda w: f"notes/batch/delete?ids[]={_note(w)}"),
    "mautic_compat:companies_list": _list(lambda w: "companies"),
    "mautic_compat:companies_batch_delete": _own("DELETE", lambda w: f"companies/batch/delete?ids[]={_company(w)}"),
    "mautic_compat:fields_list": _list(lambda w: "fields/contact"),
    "mautic_compat:fields_batch_delete": _own("DELETE", lambda w: f"fields/contact/batch/delete?ids[]={_field(w)}"),
    "mautic_compat:tags_list": _list(lambda w: "tags"),
    "mautic_compat:tags_batch_delete": _own("DELETE", lambda w: f"tags/batch/delete?ids[]={_tag(w)}"),
    "mautic_compat:stages_list": _own("GET", lambda w: "stages", status=200),
    "mautic_compat:stages_batch_delete": _own("DELETE", lambda w: f"stages/batch/delete?ids[]={_stage(w)}"),
    "mautic_compat:stages_batch_edit": _own(
        "PATCH", lambda w: "stages/batch/edit", lambda w: [{"id": _stage(w), "name": "Eve"}]
    ),
    "api:v1:list_contacts": lambda world: [
        *_own_native("GET", lambda w: "contacts", status=200, listed=True)(world),
        *_own_native("GET", lambda w: "contacts?search=tag:api-probe", status=200)(world),
        *_own_native("GET", lambda w: "contacts?tag=api-probe", status=200)(world),
    ],
    "api:v1:list_companies": _own_native("GET", lambda w: "companies", status=200, listed=True),
    "api:v1:list_fields": _own_native("GET", lambda w: "fields", status=200, listed=True),
    "api:v1:list_tags": _own_native("GET", lambda w: "tags", status=200, listed=True),
    "api:v1:list_stages": _own_native("GET", lambda w: "stages", status=200),
    "api:v1:batch_update_contacts": _own_native(
        "POST",
        lambda w: "contacts/batch/update",
        lambda w: {"items": [{"id": _contact(w), "fields": {"firstname": "Eve"}}]},
    ),
    "api:v1:batch_delete_contacts": _own_native(
        "POST", lambda w: "contacts/batch/delete", lambda w: {"ids": [_contact(w)]}
    ),
}

CASES = {
    # Under /m/<slug>/ the credentials must belong to that workspace; bob's Globex ones get 404.
    "mautic_compat:users_self": lambda world: [
        Probe("GET", f"/m/{world.acme.slug}/api/users/self", actor="bob_token"),
        Probe("GET", f"/m/{world.acme.slug}/api/users/self", actor="bob_basic"),
        Probe("GET", f"/m/{world.acme.slug}/api/users/self", actor="bob_oauth"),
    ],
    "mautic_compat:not_found": lambda world: [
        Probe("GET", f"/m/{world.acme.slug}/api/nothing-here", actor="bob_token"),
        Probe("GET", f"/m/{world.acme.slug}/api/nothing-here", actor="bob_basic"),
    ],
    # Mautic-compatible contacts
    "mautic_compat:contacts_list": _workspace_base_only("GET", lambda w: "contacts"),
    "mautic_compat:contacts_new": _workspace_base_only("POST", lambda w: "contacts/new", {"email": "x@y.example"}),
    "mautic_compat:contacts_batch_new": _workspace_base_only("POST", lambda w: "contacts/batch/new", {}),
    "mautic_compat:contacts_batch_edit": _workspace_base_only("PATCH", lambda w: "contacts/batch/edit", {}),
    "mautic_compat:contacts_batch_delete": _workspace_base_only(
        "DELETE", lambda w: f"contacts/batch/delete?ids={_contact(w)}"
    ),
    "mautic_compat:contacts_get": _both("GET", lambda w: f"contacts/{_contact(w)}"),
    "mautic_compat:contacts_edit": _both("PATCH", lambda w: f"contacts/{_contact(w)}/edit", {"firstname": "Eve"}),
    "mautic_compat:contacts_delete": _both("DELETE", lambda w: f"contacts/{_contact(w)}/delete"),
    "mautic_compat:contacts_list_fields": _workspace_base_only("GET", lambda w: "contacts/list/fields"),
    "mautic_compat:contacts_list_owners": _workspace_base_only("GET", lambda w: "contacts/list/owners"),
    "mautic_compat:contacts_dnc_add": _both("POST", lambda w: f"contacts/{_contact(w)}/dnc/email/add"),
    "mautic_compat:contacts_dnc_remove": _both("POST", lambda w: f"contacts/{_contact(w)}/dnc/email/remove"),
    "mautic_compat:contacts_dnc_add_v2": _both("POST", lambda w: f"contacts/{_contact(w)}/dnc/add/email"),
    "mautic_compat:contacts_dnc_remove_v2": _both("POST", lambda w: f"contacts/{_contact(w)}/dnc/remove/email"),
    "mautic_compat:contacts_notes": _both("GET", lambda w: f"contacts/{_contact(w)}/notes"),
    "mautic_compat:contacts_companies": _both("GET", lambda w: f"contacts/{_contact(w)}/companies"),
    "mautic_compat:contacts_segments": _both("GET", lambda w: f"contacts/{_contact(w)}/segments"),
    "mautic_compat:contacts_activity": _both("GET", lambda w: f"contacts/{_contact(w)}/activity"),
    "mautic_compat:contacts_points": _both("POST", lambda w: f"contacts/{_contact(w)}/points/plus/5"),
    # notes
    "mautic_compat:notes_list": _workspace_base_only("GET", lambda w: "notes"),
    "mautic_compat:notes_new": lambda world: _both(
        "POST", lambda w: "notes/new", {"lead": _contact(world), "text": "Hello."}
    )(world),
    "mautic_compat:notes_batch_new": _workspace_base_only("POST", lambda w: "notes/batch/new", {}),
    "mautic_compat:notes_batch_edit": _workspace_base_only("PATCH", lambda w: "notes/batch/edit", {}),
    "mautic_compat:notes_batch_delete": _workspace_base_only("DELETE", lambda w: f"notes/batch/delete?ids={_note(w)}"),
    "mautic_compat:notes_get": _both("GET", lambda w: f"notes/{_note(w)}"),
    "mautic_compat:notes_edit": _both("PATCH", lambda w: f"notes/{_note(w)}/edit", {"text": "Changed."}),
    "mautic_compat:notes_delete": _both("DELETE", lambda w: f"notes/{_note(w)}/delete"),
    # companies
    "mautic_compat:companies_list": _workspace_base_only("GET", lambda w: "companies"),
    "mautic_compat:companies_new": _workspace_base_only("POST", lambda w: "companies/new", {"companyname": "X"}),
    "mautic_compat:companies_batch_new": _workspace_base_only("POST", lambda w: "companies/batch/new", {}),
    "mautic_compat:companies_batch_edit": _workspace_base_only("PATCH", lambda w: "companies/batch/edit", {}),
    "mautic_compat:companies_batch_delete": _workspace_base_only(
        "DELETE", lambda w: f"companies/batch/delete?ids={_company(w)}"
    ),
    "mautic_compat:companies_get": _both("GET", lambda w: f"companies/{_company(w)}"),
    "mautic_compat:companies_edit": _both("PATCH", lambda w: f"companies/{_company(w)}/edit", {"companycity": "X"}),
    "mautic_compat:companies_delete": _both("DELETE", lambda w: f"companies/{_company(w)}/delete"),
    "mautic_compat:companies_add_contact": _both(
        "POST", lambda w: f"companies/{_company(w)}/contact/{_contact(w)}/add"
    ),
    "mautic_compat:companies_remove_contact": _both(
        "POST", lambda w: f"companies/{_company(w)}/contact/{_contact(w)}/remove"
    ),
    # fields
    "mautic_compat:fields_list": _workspace_base_only("GET", lambda w: "fields/contact"),
    "mautic_compat:fields_new": _workspace_base_only("POST", lambda w: "fields/contact/new", {"label": "Shoe size"}),
    "mautic_compat:fields_batch_new": _workspace_base_only("POST", lambda w: "fields/contact/batch/new", {}),
    "mautic_compat:fields_batch_edit": _workspace_base_only("PATCH", lambda w: "fields/contact/batch/edit", {}),
    "mautic_compat:fields_batch_delete": _workspace_base_only(
        "DELETE", lambda w: f"fields/contact/batch/delete?ids={_field(w)}"
    ),
    "mautic_compat:fields_get": lambda world: [
        *_both("GET", lambda w: f"fields/contact/{_field(w)}")(world),
        *_both("GET", lambda w: f"fields/company/{_company_field(w)}")(world),
    ],
    "mautic_compat:fields_edit": _both("PATCH", lambda w: f"fields/contact/{_field(w)}/edit", {"label": "X"}),
    "mautic_compat:fields_delete": _both("DELETE", lambda w: f"fields/contact/{_field(w)}/delete"),
    # tags
    "mautic_compat:tags_list": _workspace_base_only("GET", lambda w: "tags"),
    "mautic_compat:tags_new": _workspace_base_only("POST", lambda w: "tags/new", {"tag": "vip"}),
    "mautic_compat:tags_batch_new": _workspace_base_only("POST", lambda w: "tags/batch/new", {}),
    "mautic_compat:tags_batch_edit": _workspace_base_only("PATCH", lambda w: "tags/batch/edit", {}),
    "mautic_compat:tags_batch_delete": _workspace_base_only("DELETE", lambda w: f"tags/batch/delete?ids={_tag(w)}"),
    "mautic_compat:tags_get": _both("GET", lambda w: f"tags/{_tag(w)}"),
    "mautic_compat:tags_edit": _both("PATCH", lambda w: f"tags/{_tag(w)}/edit", {"tag": "renamed"}),
    "mautic_compat:tags_delete": _both("DELETE", lambda w: f"tags/{_tag(w)}/delete"),
    # stages
    "mautic_compat:stages_list": _workspace_base_only("GET", lambda w: "stages"),
    "mautic_compat:stages_new": _workspace_base_only("POST", lambda w: "stages/new", {"name": "Lead"}),
    "mautic_compat:stages_batch_new": _workspace_base_only("POST", lambda w: "stages/batch/new", {}),
    "mautic_compat:stages_batch_edit": _workspace_base_only("PATCH", lambda w: "stages/batch/edit", {}),
    "mautic_compat:stages_batch_delete": _workspace_base_only(
        "DELETE", lambda w: f"stages/batch/delete?ids={_stage(w)}"
    ),
    "mautic_compat:stages_get": _both("GET", lambda w: f"stages/{_stage(w)}"),
    "mautic_compat:stages_edit": _both("PATCH", lambda w: f"stages/{_stage(w)}/edit", {"name": "renamed"}),
    "mautic_compat:stages_delete": _both("DELETE", lambda w: f"stages/{_stage(w)}/delete"),
    "mautic_compat:stages_add_contact": _both("POST", lambda w: f"stages/{_stage(w)}/contact/{_contact(w)}/add"),
    "mautic_compat:stages_remove_contact": _both("POST", lambda w: f"stages/{_stage(w)}/contact/{_contact(w)}/remove"),
    # segments
    "mautic_compat:segments_list": _workspace_base_only("GET", lambda w: "segments"),
    "mautic_compat:segments_new": _workspace_base_only("POST", lambda w: "segments/new", {"name": "X"}),
    "mautic_compat:segments_batch_new": _workspace_base_only("POST", lambda w: "segments/batch/new", {}),
    "mautic_compat:segments_batch_edit": _workspace_base_only("PATCH", lambda w: "segments/batch/edit", {}),
    "mautic_compat:segments_batch_delete": _workspace_base_only(
        "DELETE", lambda w: f"segments/batch/delete?ids={segment_of(w)}"
    ),
    "mautic_compat:segments_get": _both("GET", lambda w: f"segments/{segment_of(w)}"),
    "mautic_compat:segments_edit": _both("PATCH", lambda w: f"segments/{segment_of(w)}/edit", {"name": "Eve"}),
    "mautic_compat:segments_delete": _both("DELETE", lambda w: f"segments/{segment_of(w)}/delete"),
    "mautic_compat:segments_add_contact": lambda world: [
        *_both("POST", lambda w: f"segments/{segment_of(w)}/contact/{_contact(w)}/add")(world),
        # the attacker's own segment and Acme's contact: the contact is not found
        *_both("POST", lambda w: f"segments/{own_segment_of(w)}/contact/{_contact(w)}/add")(world),
    ],
    "mautic_compat:segments_remove_contact": lambda world: [
        *_both("POST", lambda w: f"segments/{segment_of(w)}/contact/{_contact(w)}/remove")(world),
        *_both("POST", lambda w: f"segments/{own_segment_of(w)}/contact/{_contact(w)}/remove")(world),
    ],
    "mautic_compat:segments_add_contact_v2": _both(
        "POST", lambda w: f"segments/{segment_of(w)}/contact/add/{_contact(w)}"
    ),
    "mautic_compat:segments_remove_contact_v2": _both(
        "POST", lambda w: f"segments/{segment_of(w)}/contact/remove/{_contact(w)}"
    ),
    "mautic_compat:segments_add_contacts": _both(
        "POST", lambda w: f"segments/{segment_of(w)}/contacts/add", {"ids": [1]}
    ),
    # campaigns (Acme's campaign and its contact come from tidings/campaigns/tests/cross_workspace_api.py)
    "mautic_compat:campaigns_list": _workspace_base_only("GET", lambda w: "campaigns"),
    "mautic_compat:campaigns_new": _workspace_base_only("POST", lambda w: "campaigns/new", {"name": "X"}),
    "mautic_compat:campaigns_get": _both("GET", lambda w: f"campaigns/{_acme_campaign(w)}"),
    "mautic_compat:campaigns_edit": _both("PATCH", lambda w: f"campaigns/{_acme_campaign(w)}/edit", {"name": "Eve"}),
    "mautic_compat:campaigns_delete": _both("DELETE", lambda w: f"campaigns/{_acme_campaign(w)}/delete"),
    "mautic_compat:campaigns_add_contact": _both(
        "POST", lambda w: f"campaigns/{_acme_campaign(w)}/contact/{_acme_campaign_contact(w)}/add"
    ),
    "mautic_compat:campaigns_remove_contact": _both(
        "POST", lambda w: f"campaigns/{_acme_campaign(w)}/contact/{_acme_campaign_contact(w)}/remove"
    ),
    "mautic_compat:campaigns_contacts": _both("GET", lambda w: f"campaigns/{_acme_campaign(w)}/contacts"),
    "mautic_compat:contacts_campaigns": _both("GET", lambda w: f"contacts/{_acme_campaign_contact(w)}/campaigns"),
    # native API: every route that names an object of Acme
    "api:v1:get_contact": _native("GET", lambda w: f"contacts/{_contact(w)}"),
    "api:v1:update_contact": _native("PATCH", lambda w: f"contacts/{_contact(w)}", {"fields": {"firstname": "Eve"}}),
    "api:v1:delete_contact": _native("DELETE", lambda w: f"contacts/{_contact(w)}"),
    "api:v1:list_contact_tags": _native("GET", lambda w: f"contacts/{_contact(w)}/tags"),
    "api:v1:change_contact_tags": _native("POST", lambda w: f"contacts/{_contact(w)}/tags", {"tags": ["x"]}),
    "api:v1:list_contact_notes": _native("GET", lambda w: f"contacts/{_contact(w)}/notes"),
    "api:v1:add_contact_note": _native("POST", lambda w: f"contacts/{_contact(w)}/notes", {"text": "Hello."}),
    "api:v1:update_note": _native("PATCH", lambda w: f"notes/{_note(w)}", {"text": "Changed."}),
    "api:v1:delete_note": _native("DELETE", lambda w: f"notes/{_note(w)}"),
    "api:v1:list_contact_dnc": _native("GET", lambda w: f"contacts/{_contact(w)}/dnc"),
    "api:v1:add_contact_dnc": _native("PUT", lambda w: f"contacts/{_contact(w)}/dnc/sms", {"reason": "manual"}),
    "api:v1:remove_contact_dnc": _native("DELETE", lambda w: f"contacts/{_contact(w)}/dnc/email"),
    "api:v1:list_contact_companies": _native("GET", lambda w: f"contacts/{_contact(w)}/companies"),
    "api:v1:contact_timeline": _native("GET", lambda w: f"contacts/{_contact(w)}/timeline"),
    "api:v1:get_company": _native("GET", lambda w: f"companies/{_company(w)}"),
    "api:v1:update_company": _native("PATCH", lambda w: f"companies/{_company(w)}", {"fields": {"companycity": "X"}}),
    "api:v1:delete_company": _native("DELETE", lambda w: f"companies/{_company(w)}"),
    "api:v1:link_company_contact": _native("PUT", lambda w: f"companies/{_company(w)}/contacts/{_contact(w)}", {}),
    "api:v1:unlink_company_contact": _native("DELETE", lambda w: f"companies/{_company(w)}/contacts/{_contact(w)}"),
    "api:v1:update_field": _native("PATCH", lambda w: f"fields/{_field(w)}", {"label": "X"}),
    "api:v1:archive_field": _native("POST", lambda w: f"fields/{_field(w)}/archive"),
    "api:v1:restore_field": _native("POST", lambda w: f"fields/{_field(w)}/restore"),
    "api:v1:get_tag": _native("GET", lambda w: f"tags/{_tag(w)}"),
    "api:v1:update_tag": _native("PATCH", lambda w: f"tags/{_tag(w)}", {"name": "renamed"}),
    "api:v1:delete_tag": _native("DELETE", lambda w: f"tags/{_tag(w)}"),
    "api:v1:get_stage": _native("GET", lambda w: f"stages/{_stage(w)}"),
    "api:v1:update_stage": _native("PATCH", lambda w: f"stages/{_stage(w)}", {"name": "Eve's stage"}),
    "api:v1:delete_stage": _native("DELETE", lambda w: f"stages/{_stage(w)}"),
    "api:v1:add_stage_contact": _native("PUT", lambda w: f"stages/{_stage(w)}/contacts/{_contact(w)}"),
    "api:v1:remove_stage_contact": _native("DELETE", lambda w: f"stages/{_stage(w)}/contacts/{_contact(w)}"),
}
