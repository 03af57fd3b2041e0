"""The campaign pages: the list, a campaign's builder (a tree editor of its draft graph), publish, journeys.

Thin: forms parse, tidings.campaigns.builder computes the changed draft, the actions save it (graph.check
refuses what would break it, keyed by path, and those errors are shown at the step they concern) and
selectors_ui reads. A campaign or contact named in a URL is read in request.workspace; another
workspace's id answers 404. Every page works with plain links and forms (keyboard, screen readers).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.accounts.permissions import require
from tidings.campaigns import actions, builder, selectors, selectors_ui
from tidings.campaigns.forms import CampaignForm, EntryForm, GoalForm, KindForm, SourceForm, StepForm
from tidings.campaigns.models import CampaignStatus
from tidings.ui.confirm import confirmation_required
from tidings.ui.datatable import Column, DataTable
from tidings.validation import form_add_errors

EDIT = "campaigns:edit"
COLUMNS = [
    Column("name", "Name", required=True),
    Column("status", "State"),
    Column("sources", "Sources"),
    Column("active", "In it now"),
    Column("entered", "Entered"),
]


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"campaigns:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _int(raw, *, optional: bool = False) -> int | None:
    if optional and raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None
    if not 0 < value < 2**63:
        raise Http404("Not found.")
    return value


@require_permission("campaigns:view")
def campaign_list(request, workspace_slug):
    """The workspace's campaigns with their state, sources and contacts (?q= searches names)."""
    search = request.GET.get("q", "")[:100]
    rows = selectors_ui.campaign_rows(search=search)
    can_edit = request.principal.can(EDIT)
    empty = {
        "title": "No campaigns match" if search else "No campaigns yet",
        "text": "A campaign walks contacts through emails, waits and decisions."
        + ("" if can_edit else " A member who can edit campaigns creates them."),
        "actions": [("New campaign", _url(request, "create"))] if can_edit and not search else [],
    }
    if search:
        empty["clear_url"] = _url(request, "list")
    table = DataTable(columns=COLUMNS, query={}, order="name", rows=rows, id="campaigns", caption="Campaigns",
                      noun="campaigns", row_template="campaigns/list_rows.html", row_actions=can_edit,
                      empty={} if rows else empty)  # fmt: skip
    return render(request, "campaigns/list.html", {"table": table, "rows": rows, "can_edit": can_edit,
                                                   "search": search})  # fmt: skip


@require_permission(EDIT)
def campaign_create(request, workspace_slug):
    """A new draft campaign: its name; the builder opens next."""
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = actions.campaign_create(principal=request.principal, request=request, graph=builder.empty(),
                                               **form.cleaned_data)  # fmt: skip
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Campaign “{campaign.name}” created.")
            return redirect(_url(request, "detail", campaign_id=campaign.pk))
    return render(request, "campaigns/create.html", {"form": form}, status=400 if request.method == "POST" else 200)


def _builder(request, campaign, *, status=200, **extra):
    names = selectors_ui.choices()
    graph = builder.normalised(campaign.graph)
    # a referenced email or segment deleted since the draft was saved is shown at its step
    by_step, other = builder.step_errors(graph, selectors_ui.graph_problems(graph, campaign.pk))
    roots, loose = selectors_ui.tree(graph, counts=selectors.step_counts(campaign.pk),
                                     reasons=selectors_ui.step_reasons(campaign.pk), errors=by_step,
                                     names=names)  # fmt: skip
    sources = []
    for index, source in enumerate(graph["sources"]):
        label = {"segment": "Joins the segment", "form": "Submits the form", "manual": "Added by hand",
                 "api": "Added through the API"}.get(source["kind"], source["kind"])  # fmt: skip
        if source["kind"] == "segment":
            label += f" “{selectors_ui._name(names['segments'], source.get('segment_id'))}”"
        elif source["kind"] == "form":
            label += f" “{selectors_ui._name(names['forms'], source.get('form_id'))}”"
        sources.append({"index": index, "label": label})
    entry = graph["entry"]
    context = {
        "campaign": campaign,
        "roots": roots,
        "loose": loose,
        "sources": sources,
        "source_form": SourceForm(choices=names),
        "entry_form": EntryForm(
            initial={
                "mode": entry.get("mode", "once"),
                "min_gap_hours": (entry.get("min_gap_seconds") or 0) // 3600,
                "exit_on_segment_leave": graph.get("exit_on_segment_leave"),
            }
        ),  # fmt: skip
        "graph_errors": other,
        "can_edit": request.principal.can(EDIT),
        "published": campaign.status == CampaignStatus.PUBLISHED,
        "contacts": selectors_ui.campaign_contacts(campaign.pk),
        "counts": selectors.enrolment_counts([campaign.pk])[campaign.pk],
        "rename_form": CampaignForm(
            initial={
                "name": campaign.name,
                "description": campaign.description,
                "max_steps_per_minute": campaign.max_steps_per_minute,
            }
        ),
        "goals": [
            {"index": i, "label": selectors_ui.goal_summary(g, names)} for i, g in enumerate(graph.get("goals") or [])
        ],
        "goal_form": GoalForm(choices=names),
        **extra,
    }
    return render(request, "campaigns/detail.html", context, status=status)


@found
@require_permission("campaigns:view")
def campaign_detail(request, workspace_slug, campaign_id):
    """A campaign's builder: sources, entry rules, the steps as a tree with their counts, and its contacts."""
    return _builder(request, selectors.campaign_get(campaign_id))


def _save(request, campaign, graph, *, success: str):
    """Save a changed draft; return a redirect to the builder, or the builder with the errors (400)."""
    try:
        actions.campaign_update(campaign.pk, principal=request.principal, request=request, graph=graph)
    except ValidationError as error:
        _, other = builder.step_errors(graph, error.message_dict)
        by_step, _ = builder.step_errors(graph, error.message_dict)
        messages_ = other + [m for texts in by_step.values() for m in texts]
        return _builder(request, campaign, status=400, save_errors=messages_)
    messages.success(request, success)
    return redirect(_url(request, "detail", campaign_id=campaign.pk) + "#steps")


@require_POST
@found
@require_permission(EDIT)
def campaign_rename(request, workspace_slug, campaign_id):
    campaign = selectors.campaign_get(campaign_id)
    form = CampaignForm(request.POST)
    if form.is_valid():
        try:
            actions.campaign_update(campaign.pk, principal=request.principal, request=request, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, "Campaign saved.")
            return redirect(_url(request, "detail", campaign_id=campaign.pk))
    return _builder(request, campaign, status=400, rename_form=form)


@require_POST
@found
@require_permission(EDIT)
def source_add(request, workspace_slug, campaign_id):
    campaign = selectors.campaign_get(campaign_id)
    form = SourceForm(request.POST, choices=selectors_ui.choices())
    if not form.is_valid():
        return _builder(request, campaign, status=400, source_form=form)
    graph = builder.normalised(campaign.graph)
    graph["sources"].append(form.source())
    return _save(request, campaign, graph, success="Source added.")


@require_POST
@found
@require_permission(EDIT)
def source_remove(request, workspace_slug, campaign_id, index):
    campaign = selectors.campaign_get(campaign_id)
    graph = builder.normalised(campaign.graph)
    if index >= len(graph["sources"]):
        raise Http404("Not found.")
    del graph["sources"][index]
    return _save(request, campaign, graph, success="Source removed.")


@require_POST
@found
@require_permission(EDIT)
def entry_save(request, workspace_slug, campaign_id):
    campaign = selectors.campaign_get(campaign_id)
    form = EntryForm(request.POST)
    if not form.is_valid():
        return _builder(request, campaign, status=400, entry_form=form)
    graph = builder.normalised(campaign.graph)
    graph.update(form.values())
    return _save(request, campaign, graph, success="Entry rules saved.")


@require_POST
@found
@require_permission(EDIT)
def goal_add(request, workspace_slug, campaign_id):
    campaign = selectors.campaign_get(campaign_id)
    form = GoalForm(request.POST, choices=selectors_ui.choices())
    if not form.is_valid():
        return _builder(request, campaign, status=400, goal_form=form)
    graph = builder.normalised(campaign.graph)
    graph["goals"] = [*(graph.get("goals") or []), form.goal()]
    return _save(request, campaign, graph, success="Goal added.")


@require_POST
@found
@require_permission(EDIT)
def goal_remove(request, workspace_slug, campaign_id, index):
    campaign = selectors.campaign_get(campaign_id)
    graph = builder.normalised(campaign.graph)
    goals = list(graph.get("goals") or [])
    if index >= len(goals):
        raise Http404("Not found.")
    del goals[index]
    graph["goals"] = goals
    return _save(request, campaign, graph, success="Goal removed.")


def _step_errors_at(message_dict: dict, index: int) -> tuple[dict[str, list[str]], list[str]]:
    """Split check errors into this step's, by its key, and the rest (as sentences)."""
    mine: dict[str, list[str]] = {}
    rest: list[str] = []
    prefix = f"graph.steps.{index}"
    for key, texts in message_dict.items():
        if key == prefix:
            mine.setdefault("__all__", []).extend(texts)
        elif key.startswith(prefix + "."):
            mine.setdefault(key[len(prefix) + 1 :], []).extend(texts)
        else:
            rest.extend(texts)
    return mine, rest


def _step_page(request, campaign, *, form, kind_form=None, step=None, after=None, edge="next", status=200, problems=()):
    title = f"Step {step['id']}" if step else "New step"
    context = {
        "campaign": campaign,
        "problems": problems,
        "title": title,
        "can_edit": request.principal.can(EDIT),
        "form": form,
        "kind_form": kind_form,
        "step": step,
        "after": after,
        "edge": edge,
        "kind_label": selectors_ui.KIND_LABELS.get(form.kind, "") if form else "",
        "tags": selectors_ui.choices()["tags"] if form and "tags" in form.fields else [],
        # the webhook's signing key, for its receiver to check X-Tidings-Signature (editors only)
        "webhook_key": _webhook_key(request, campaign, step),
    }
    return render(request, "campaigns/step.html", context, status=status)


def _webhook_key(request, campaign, step) -> str:
    from tidings.campaigns.webhooks import step_secret

    if not step or step.get("kind") != "call_webhook" or not request.principal.can(EDIT):
        return ""
    return step_secret(request.workspace.id, campaign.pk, int(step["id"])).decode()


@found
@require_permission(EDIT)
def step_add(request, workspace_slug, campaign_id):
    """Add a step after ?after= on its ?edge= (next, yes, no), or first: choose its kind, then its settings."""
    campaign = selectors.campaign_get(campaign_id)
    source = request.POST if request.method == "POST" else request.GET
    after = _int(source.get("after"), optional=True)
    edge = source.get("edge", "next")
    graph = builder.normalised(campaign.graph)
    steps = {s["id"]: s for s in graph["steps"]}
    if (after is not None and after not in steps) or edge not in builder.EDGES:
        raise Http404("Not found.")
    kind_form = KindForm(source if "kind" in source else None)
    if not kind_form.is_valid():
        return _step_page(request, campaign, form=None, kind_form=kind_form, after=after, edge=edge,
                          status=400 if "kind" in source else 200)  # fmt: skip
    kind = kind_form.cleaned_data["kind"]
    names = selectors_ui.choices()
    if request.method != "POST":
        return _step_page(request, campaign, form=StepForm(kind=kind, choices=names), after=after, edge=edge)
    form = StepForm(request.POST, kind=kind, choices=names)
    if form.is_valid():
        try:
            new, step_id = builder.insert_step(graph, form.params(), after=after, edge=edge)
        except KeyError:
            raise Http404("Not found.") from None
        try:
            actions.campaign_update(campaign.pk, principal=request.principal, request=request, graph=new)
        except ValidationError as error:
            mine, rest = _step_errors_at(error.message_dict, len(new["steps"]) - 1)
            form.add_graph_errors(mine)
            for text in rest:
                form.add_error(None, text)
        else:
            messages.success(request, f"Step added: {selectors_ui.KIND_LABELS[kind]}.")
            return redirect(_url(request, "detail", campaign_id=campaign.pk) + f"#step-{step_id}")
    return _step_page(request, campaign, form=form, after=after, edge=edge, status=400)


@found
@require_permission("campaigns:view")
def step_edit(request, workspace_slug, campaign_id, step_id):
    """A step's settings in the form of its kind (read-only without campaigns:edit)."""
    campaign = selectors.campaign_get(campaign_id)
    graph = builder.normalised(campaign.graph)
    index = next((i for i, s in enumerate(graph["steps"]) if s["id"] == step_id), None)
    if index is None:
        raise Http404("Not found.")
    step = graph["steps"][index]
    names = selectors_ui.choices()
    if request.method != "POST":
        form = StepForm(initial=StepForm.initial_from(step), kind=step["kind"], choices=names)
        # e.g. its email deleted since
        mine, _ = _step_errors_at(selectors_ui.graph_problems(graph, campaign.pk), index)
        problems = [f"{key.replace('_', ' ')}: {text}" for key, texts in mine.items() for text in texts]
        return _step_page(request, campaign, form=form, step=step, problems=problems)
    require(request.principal, EDIT, workspace_id=request.workspace.id)
    form = StepForm(request.POST, kind=step["kind"], choices=names)
    if form.is_valid():
        new = builder.replace_step(graph, step_id, form.params())
        try:
            actions.campaign_update(campaign.pk, principal=request.principal, request=request, graph=new)
        except ValidationError as error:
            mine, rest = _step_errors_at(error.message_dict, index)
            form.add_graph_errors(mine)
            for text in rest:
                form.add_error(None, text)
        else:
            messages.success(request, "Step saved.")
            return redirect(_url(request, "detail", campaign_id=campaign.pk) + f"#step-{step_id}")
    return _step_page(request, campaign, form=form, step=step, status=400)


@require_POST
@found
@require_permission(EDIT)
def step_remove(request, workspace_slug, campaign_id, step_id):
    """Remove a step after a confirmation: what led to it follows what came after it (a branch: the path kept)."""
    campaign = selectors.campaign_get(campaign_id)
    graph = builder.normalised(campaign.graph)
    if step_id not in {s["id"] for s in graph["steps"]}:
        raise Http404("Not found.")
    keep = request.POST.get("keep", "next")
    keep = keep if keep in builder.EDGES else "next"
    message = "The steps before it continue with the step after it."
    if campaign.version:
        message += " Contacts waiting at it keep their place until you publish; publishing asks where they go."
    confirm = confirmation_required(request, title="Remove this step?", message=message, label="Remove step",
                                    back=_url(request, "detail", campaign_id=campaign.pk))  # fmt: skip
    if confirm:
        return confirm
    return _save(request, campaign, builder.remove_step(graph, step_id, keep=keep), success="Step removed.")


@found
@require_permission(EDIT)
def campaign_publish(request, workspace_slug, campaign_id):
    """Publish the draft as a new version; contacts waiting at steps the draft removed go where the member says."""
    campaign = selectors.campaign_get(campaign_id)
    removed = selectors_ui.removed_steps_waiting(campaign)
    graph = builder.normalised(campaign.graph)
    targets = [(str(s["id"]), selectors_ui.KIND_LABELS.get(s["kind"], s["kind"]) + f" (step {s['id']})")
               for s in graph["steps"]]  # fmt: skip
    publish_context = {"campaign": campaign, "title": f"Publish “{campaign.name}”", "removed": removed,
                       "targets": targets}  # fmt: skip
    if request.method != "POST":
        return render(request, "campaigns/publish.html", publish_context)
    moves = {}
    for row in removed:
        target = request.POST.get(f"move_{row['step']}", "")
        if target:
            moves[row["step"]] = _int(target)
    try:
        actions.campaign_publish(campaign.pk, principal=request.principal, request=request, moves=moves)
    except ValidationError as error:
        by_step, other = builder.step_errors(graph, error.message_dict)
        texts = other + [m for texts in by_step.values() for m in texts] + error.message_dict.get("moves", [])
        return render(request, "campaigns/publish.html", {**publish_context, "errors": texts}, status=400)
    messages.success(request, f"Campaign “{campaign.name}” published.")
    return redirect(_url(request, "detail", campaign_id=campaign.pk))


@require_POST
@found
@require_permission(EDIT)
def campaign_unpublish(request, workspace_slug, campaign_id):
    """Stop a campaign after a confirmation: no one enters and no step runs until it is published again."""
    campaign = selectors.campaign_get(campaign_id)
    confirm = confirmation_required(request, title=f"Unpublish “{campaign.name}”?",
                                    message="No one enters and no step runs until it is published again; "
                                    "contacts keep their place.", label="Unpublish",
                                    back=_url(request, "detail", campaign_id=campaign.pk))  # fmt: skip
    if confirm:
        return confirm
    try:
        actions.campaign_unpublish(campaign.pk, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Campaign “{campaign.name}” unpublished.")
    return redirect(_url(request, "detail", campaign_id=campaign.pk))


@require_POST
@found
@require_permission(EDIT)
def campaign_delete(request, workspace_slug, campaign_id):
    """Delete a campaign with its versions and who is in it, after a confirmation."""
    campaign = selectors.campaign_get(campaign_id)
    confirm = confirmation_required(request, title=f"Delete the campaign “{campaign.name}”?",
                                    message="Its versions and its contacts' places go with it; the events stay.",
                                    label="Delete campaign",
                                    back=_url(request, "detail", campaign_id=campaign.pk))  # fmt: skip
    if confirm:
        return confirm
    actions.campaign_delete(campaign.pk, principal=request.principal, request=request)
    messages.success(request, f"Campaign “{campaign.name}” deleted.")
    return redirect(_url(request, "list"))


@found
@require_permission("campaigns:view")
def journey(request, workspace_slug, campaign_id, contact_id):
    """A contact's walk through a campaign: each step with its times, outcome and skip reason."""
    campaign = selectors.campaign_get(campaign_id)
    enrolment = selectors_ui.enrolment_of(campaign.pk, contact_id)
    context = {
        "campaign": campaign,
        "enrolment": enrolment,
        "rows": selectors_ui.journey_rows(campaign, contact_id),
        "can_see_contact": request.principal.can("contacts:view"),
        "title": f"Journey of contact #{contact_id}",
    }
    return render(request, "campaigns/journey.html", context)


def contact_panel(request, contact) -> dict:
    """The "Campaigns" panel of a contact's page: the campaigns it is or was in, each linking to its journey."""
    return {"contact_campaigns": selectors_ui.contact_campaigns(contact.id)}
