"""Routes of the contacts pages: probes proving bob (Globex) gets 404 on Acme's contacts, companies, fields, imports.

Each object route is probed twice: under Acme's slug (bob is not a member) and under Globex's slug
with Acme's object id (bob owns Globex and holds every permission there, but the id is not Globex's).
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe


def setup(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tidings.accounts.actions import membership_create, user_create
    from tidings.accounts.selectors import principal_for_user
    from tidings.contacts import actions, imports
    from tidings.tenancy.context import use_workspace

    # A member of Acme whom owner suggestions must never name to anyone else (markers: her name and email).
    quintessa = user_create(
        email="quintessa.marrowby@acme.example", password=None, first_name="Quintessa", last_name="Marrowby"
    )
    membership_create(workspace=world.acme, user=quintessa, role="marketer", principal=system(world.acme))

    with use_workspace(world.acme):
        contact = actions.contact_create(
            {"email": "ada@analytical.example", "firstname": "Ada", "phone": "+44 20 7946 0999"},
            tags=["vip"],
            principal=system(),
        )
        # A possible duplicate of contact (same phone): the finder proposes the pair in Acme only.
        twin = actions.contact_create(
            {"email": "a.twin@analytical.example", "firstname": "Ada", "phone": "+44 20 7946 0999"},
            principal=system(),
        )
        company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
        actions.company_link(contact.id, company.id, principal=system())
        note = actions.note_add(contact.id, "Prefers letters.", principal=system())
        actions.dnc_add(contact.id, channel="email", reason="manual", principal=system())
        field = actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())
        stage = actions.stage_create({"name": "Acme pipeline stage"}, principal=system())
        actions.contacts_stage_change([contact.id], stage.id, principal=system())
        upload = SimpleUploadedFile("people.csv", b"email\nlin@acme.example\n", content_type="text/csv")
        job = imports.import_create(upload, principal=system())
        # A view alice shares with Acme: its name is a marker, its id must open nothing elsewhere.
        view = actions.saved_view_save(
            "contacts",
            name="Acme shared view",
            query={"tag": "vip"},
            columns=["name"],
            shared=True,
            principal=principal_for_user(world.alice, world.acme),
        )
    world.objects.update(
        acme_contact=contact.id,
        acme_company=company.id,
        acme_note=note.id,
        acme_field=field.id,
        acme_import=job.id,
        acme_view=view.pk,
        acme_twin=twin.id,
        acme_stage=stage.id,
    )
    world.markers.update(
        {
            "Analytical Engines",
            "Shoe size",
            "Acme shared view",
            "Acme pipeline stage",
            "Quintessa",
            "quintessa.marrowby@acme.example",
        }
    )


def _both(world, tail: str, method: str = "GET") -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/{tail}"), Probe(method, f"/w/{world.globex.slug}/{tail}")]


def _acme(world, tail: str, method: str = "GET") -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/{tail}")]


def _contact(world, tail: str = "", method: str = "GET") -> list[Probe]:
    return _both(world, f"contacts/{world.objects['acme_contact']}/{tail}", method)


def _company(world, tail: str = "", method: str = "GET") -> list[Probe]:
    return _both(world, f"companies/{world.objects['acme_company']}/{tail}", method)


def _field(world, tail: str, method: str = "POST") -> list[Probe]:
    return _both(world, f"settings/fields/{world.objects['acme_field']}/{tail}", method)


def _stage(world, tail: str, method: str = "POST") -> list[Probe]:
    return _both(world, f"settings/stages/{world.objects['acme_stage']}/{tail}", method)


def _import(world, tail: str = "", method: str = "GET") -> list[Probe]:
    return _both(world, f"contacts/imports/{world.objects['acme_import']}/{tail}", method)


def _own(world, tail: str, method: str = "GET", data=None, status=None, shows=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.globex.slug}/{tail}", data=data, status=status, shows=shows)]


def _own_list(world, tail: str) -> list[Probe]:
    return _own(world, tail, status=200, shows=world.own_marker)


# The attacker in his own workspace: lists show only his data; forms naming Acme's ids change nothing there.
OWN_WORKSPACE = {
    "contacts:list": lambda w: (
        _own_list(w, "contacts/")
        + _own(w, "contacts/?q=tag:acme-secret-marker", status=200)
        + _own(w, "contacts/?q=company:Analytical Engines", status=200)
        + _own(w, "contacts/?q=analytical", status=200)
        + _own(w, "contacts/?country=DE&sort=company_name", status=200, shows=w.own_marker)
        + _own(w, f"contacts/?view={w.objects['acme_view']}", status=404)
        + _own(w, f"contacts/?q=import:{w.objects['acme_import']}", status=200)
        # Acme's member typed into the owner filter is nobody here (a field error), never her contacts.
        + _own(w, "contacts/?owner=Quintessa+Marrowby", status=200)
    ),
    "contacts:view_delete": lambda w: _own(w, f"contacts/views/{w.objects['acme_view']}/delete/", "POST", status=404),
    "contacts:view_save": lambda w: _own(
        w, "contacts/views/", "POST", {"name": "Acme shared view", "query": "tag=vip"}, status=302
    ),
    "contacts:table_prefs": lambda w: _own(w, "contacts/table/", "POST", {"columns": ["name"]}, status=302),
    "contacts:company_list": lambda w: (
        _own_list(w, "companies/")
        + _own(w, "companies/?q=Analytical", status=200)
        + _own(w, "companies/?q=Engines&sort=-contacts", status=200)
    ),
    # Globex's own suggestions never name Acme's company (a marker).
    "contacts:company_suggest": lambda w: _own(w, "companies/suggest/?company=Analytical", status=200),
    # Nor do they name Acme's members, whether typed by name, email or the domain of Acme's addresses.
    "contacts:owner_suggest": lambda w: (
        _own(w, "contacts/owners/suggest/?owner=quin", status=200)
        + _own(w, "contacts/owners/suggest/?owner=marrowby%40acme&keywords=1", status=200)
        + _own(w, "contacts/owners/suggest/?owner=acme.example", status=200)
    ),
    "contacts:fields": lambda w: _own_list(w, "settings/fields/"),
    "contacts:stage_list": lambda w: _own(w, "settings/stages/", status=200),
    # A new stage of his own named like Acme's is his (names are unique per workspace only).
    "contacts:stage_create": lambda w: _own(w, "settings/stages/new/", "POST", {"name": "Lead", "weight": "1"}),
    "contacts:field_alias": lambda w: _own(w, "settings/fields/alias/?label=Shoe+size", status=200),
    "contacts:import_list": lambda w: _own(w, "contacts/imports/", status=200),
    "contacts:export": lambda w: _own_list(w, "contacts/export/csv/") + _own_list(w, "contacts/export/json/"),
    "contacts:bulk": lambda w: [
        *_own(w, "contacts/bulk/", "POST", {"ids": [w.objects["acme_contact"]], "action": "tag_add", "tag": "taken"}),
        *_own(w, "contacts/bulk/", "POST", {"ids": [w.objects["acme_contact"]], "action": "delete", "confirmed": "1"}),
        *_own(w, "contacts/bulk/", "POST", {"scope": "matching", "query": "", "action": "tag_add", "tag": "taken"}),
        *_own(w, "contacts/bulk/", "POST", {"ids": [w.objects["acme_contact"]], "action": "export_csv"}),
        # A bulk action another app registered, naming Acme's segment (set up by segments' cross_workspace).
        *_own(
            w,
            "contacts/bulk/",
            "POST",
            {"ids": [w.own["contact"]], "action": "segment_add", "segment": w.objects["acme_segment"]},
            status=404,
        ),
    ],
    "contacts:merge": lambda w: _own(
        w, f"contacts/{w.own['contact']}/merge/", "POST", {"other": str(w.objects["acme_contact"]), "confirmed": "1"}
    ),
    "contacts:company_link": lambda w: _own(
        w, f"contacts/{w.own['contact']}/companies/", "POST", {"company": w.objects["acme_company"]}
    ),
    # Acme's pair (same phone) must not be proposed to the attacker, nor be openable or dismissable from his own.
    "contacts:duplicates": lambda w: _own(w, "contacts/duplicates/", status=200),
    "contacts:merge_preview": lambda w: (
        _own(w, f"contacts/{w.own['contact']}/merge/{w.objects['acme_contact']}/", status=404)
        + _own(w, f"contacts/{w.own['contact']}/merge/{w.objects['acme_contact']}/", "POST", status=404)
    ),
    "contacts:duplicate_dismiss": lambda w: _own(
        w, f"contacts/{w.own['contact']}/not-duplicate/{w.objects['acme_contact']}/", "POST", status=404
    ),
}

CASES = {
    "contacts:list": lambda w: _acme(w, "contacts/") + _acme(w, "contacts/?q=ada@analytical.example"),
    "contacts:create": lambda w: _acme(w, "contacts/new/") + _acme(w, "contacts/new/", "POST"),
    "contacts:bulk": lambda w: (
        _acme(w, "contacts/bulk/", "POST")
        + [
            Probe(
                "POST", f"/w/{w.acme.slug}/contacts/bulk/", data={"scope": "matching", "action": "tag_add", "tag": "x"}
            )
        ]
    ),
    "contacts:table_prefs": lambda w: _acme(w, "contacts/table/", "POST"),
    "contacts:view_save": lambda w: _acme(w, "contacts/views/", "POST"),
    "contacts:view_delete": lambda w: _both(w, f"contacts/views/{w.objects['acme_view']}/delete/", "POST"),
    "contacts:tag_suggest": lambda w: _acme(w, "contacts/tags/suggest/?tag=vi"),
    "contacts:country_suggest": lambda w: _acme(w, "contacts/countries/suggest/?country=ger"),
    "contacts:company_suggest": lambda w: _acme(w, "companies/suggest/?company=Analytical"),
    "contacts:owner_suggest": lambda w: _acme(w, "contacts/owners/suggest/?owner=quin"),
    "contacts:export": lambda w: _acme(w, "contacts/export/csv/") + _acme(w, "contacts/export/json/"),
    "contacts:import_upload": lambda w: _acme(w, "contacts/import/") + _acme(w, "contacts/import/", "POST"),
    "contacts:import_list": lambda w: _acme(w, "contacts/imports/"),
    "contacts:import_policy": lambda w: _acme(w, "contacts/imports/policy/", "POST"),
    "contacts:import_detail": lambda w: _import(w),
    "contacts:import_map": lambda w: _import(w, "map/") + _import(w, "map/", "POST"),
    "contacts:import_errors": lambda w: _import(w, "errors.csv"),
    "contacts:import_resume": lambda w: _import(w, "resume/", "POST"),
    "contacts:import_cancel": lambda w: _import(w, "cancel/", "POST"),
    "contacts:detail": lambda w: _contact(w),
    "contacts:edit": lambda w: _contact(w, "edit/") + _contact(w, "edit/", "POST"),
    "contacts:delete": lambda w: _contact(w, "delete/") + _contact(w, "delete/", "POST"),
    "contacts:timeline": lambda w: _contact(w, "timeline/"),
    "contacts:tags": lambda w: _contact(w, "tags/", "POST"),
    "contacts:note_add": lambda w: _contact(w, "notes/", "POST"),
    "contacts:note_edit": lambda w: (
        _contact(w, f"notes/{w.objects['acme_note']}/edit/")
        + _contact(w, f"notes/{w.objects['acme_note']}/edit/", "POST")
    ),
    "contacts:note_delete": lambda w: _contact(w, f"notes/{w.objects['acme_note']}/delete/", "POST"),
    "contacts:company_link": lambda w: _contact(w, "companies/", "POST"),
    "contacts:company_unlink": lambda w: _contact(w, f"companies/{w.objects['acme_company']}/unlink/", "POST"),
    "contacts:company_primary": lambda w: _contact(w, f"companies/{w.objects['acme_company']}/primary/", "POST"),
    "contacts:dnc_add": lambda w: _contact(w, "dnc/", "POST"),
    "contacts:dnc_remove": lambda w: _contact(w, "dnc/email/remove/", "POST"),
    "contacts:merge": lambda w: _contact(w, "merge/") + _contact(w, "merge/", "POST"),
    "contacts:duplicates": lambda w: _acme(w, "contacts/duplicates/"),
    "contacts:merge_preview": lambda w: (
        _contact(w, f"merge/{w.objects['acme_twin']}/") + _contact(w, f"merge/{w.objects['acme_twin']}/", "POST")
    ),
    "contacts:duplicate_dismiss": lambda w: _contact(w, f"not-duplicate/{w.objects['acme_twin']}/", "POST"),
    "contacts:company_list": lambda w: _acme(w, "companies/"),
    "contacts:company_create": lambda w: _acme(w, "companies/new/") + _acme(w, "companies/new/", "POST"),
    "contacts:company_detail": lambda w: _company(w),
    "contacts:company_edit": lambda w: _company(w, "edit/") + _company(w, "edit/", "POST"),
    "contacts:company_delete": lambda w: _company(w, "delete/") + _company(w, "delete/", "POST"),
    "contacts:fields": lambda w: _acme(w, "settings/fields/") + _acme(w, "settings/fields/", "POST"),
    "contacts:field_edit": lambda w: _field(w, "", "GET") + _field(w, ""),
    "contacts:field_alias": lambda w: _acme(w, "settings/fields/alias/?label=Shoe+size"),
    "contacts:field_label": lambda w: _field(w, "label/"),
    "contacts:field_move": lambda w: _field(w, "move/"),
    "contacts:field_archive": lambda w: _field(w, "archive/"),
    "contacts:field_index": lambda w: _field(w, "index/"),
    "contacts:field_delete": lambda w: _field(w, "delete/", "GET") + _field(w, "delete/"),
    "contacts:stage_list": lambda w: _acme(w, "settings/stages/"),
    "contacts:stage_create": lambda w: _acme(w, "settings/stages/new/") + _acme(w, "settings/stages/new/", "POST"),
    "contacts:stage_edit": lambda w: _stage(w, "edit/", "GET") + _stage(w, "edit/"),
    "contacts:stage_delete": lambda w: _stage(w, "delete/"),
}
