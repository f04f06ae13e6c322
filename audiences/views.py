from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from campaigns.projects.permissions import get_project_for_user
from lib.spreadsheets import spreadsheet_response

from . import selectors, services
from .forms import (
    FIELD_LABELS,
    AudienceForm,
    AudienceListForm,
    AudienceRulesForm,
    CrossFunctionalForm,
    CrossFunctionalSaveForm,
    DirectoryFilterForm,
    MemberForm,
    PasteEmailsForm,
    RuleFormSet,
    describe_rules,
    rule_formset_initial,
    rules_from,
)
from .models import Audience, Employee

PAGE_SIZE = 50
PREVIEW_SIZE = 20
EXPORT_FORMATS = ("csv", "xlsx")


def _export_headers() -> list[str]:
    return [
        _("Employee ID"), _("First name"), _("Last name"), _("Email"), _("Department"), _("Site"),
        _("Title"), _("Manager"), _("Language"), _("Time zone"), _("Active"),
    ]  # fmt: skip


def _people_count(n: int) -> str:
    return ngettext("%(n)d person", "%(n)d people", n) % {"n": n}


# The directory


@require_safe
@login_required
@permission_required("audiences.view_employee", raise_exception=True)
def employee_list(request):
    form = DirectoryFilterForm(request.GET or None, facets=selectors.directory_facets())
    employees = selectors.employee_search(**(form.search_kwargs() if form.is_bound else {}))
    page = Paginator(employees, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audiences/employee_list.html", {"form": form, "page": page, "query": query.urlencode()})


@require_safe
@login_required
@permission_required("audiences.view_employee", raise_exception=True)
def employee_export(request, fmt: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404
    form = DirectoryFilterForm(request.GET or None, facets=selectors.directory_facets())
    employees = selectors.employee_search(**(form.search_kwargs() if form.is_bound else {}))
    rows = selectors.employee_export_rows(employees)
    return spreadsheet_response(rows, _export_headers(), fmt=fmt, filename=_("directory"))


@require_safe
@login_required
@permission_required("audiences.view_employee", raise_exception=True)
def employee_detail(request, pk):
    employee = get_object_or_404(Employee, pk=pk)
    audiences = selectors.employee_audiences(employee=employee, user=request.user)
    history = selectors.employee_history(employee=employee)
    return render(
        request, "audiences/employee_detail.html", {"employee": employee, "audiences": audiences, "history": history}
    )


@login_required
@permission_required("audiences.change_employee", raise_exception=True)
def employee_erase(request, pk):
    employee = get_object_or_404(Employee, pk=pk)
    if request.method == "POST":
        services.employee_erase(employee=employee, by=request.user)
        messages.success(request, _("The person’s personal data was erased."))
        return redirect(employee)
    return render(request, "audiences/employee_confirm_erase.html", {"employee": employee})


# A project's audiences


@require_safe
@login_required
def audience_list(request, slug):
    project, membership = get_project_for_user(request, slug)
    overview = selectors.audience_sizes_and_overlaps(project=project)
    return render(
        request, "audiences/audience_list.html", {"project": project, "membership": membership, "overview": overview}
    )


@require_safe
@login_required
def audience_detail(request, slug, pk):
    project, membership = get_project_for_user(request, slug)
    audience = get_object_or_404(Audience, project=project, pk=pk)
    page = Paginator(selectors.audience_members(audience=audience), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audiences/audience_detail.html",
        {
            "project": project,
            "membership": membership,
            "audience": audience,
            "page": page,
            "rule_lines": describe_rules(audience.rules or {}),
            "paste_form": PasteEmailsForm(),
        },
    )


def _unmatched_text(value: selectors.UnmatchedValue) -> str:
    names = {"field": str(FIELD_LABELS[value.field]).lower(), "value": value.value, "suggestion": value.suggestion}
    if value.suggestion:
        return _("Nobody's %(field)s is “%(value)s”. Did you mean “%(suggestion)s”?") % names
    return _("Nobody's %(field)s is “%(value)s”.") % names


def _rules_editor(request, project, membership, audience: Audience | None):
    """Create or edit an audience by rules; also previews its members and adds rule rows without JS."""
    initial_rules = rule_formset_initial(audience.rules or {}) if audience else []
    data = request.POST if request.method == "POST" else None
    if data is not None and "add_rule" in data:
        data = data.copy()
        data["rule-TOTAL_FORMS"] = str(int(data.get("rule-TOTAL_FORMS") or 0) + 1)
    form = AudienceRulesForm(data, project=project, audience=audience)
    formset = RuleFormSet(data, prefix="rule", initial=initial_rules)
    preview = None
    unmatched = selectors.unmatched_values(rules=audience.rules or {}) if audience and data is None else []
    if data is not None and formset.is_valid() and form.is_valid():
        # "vasteras" is the directory's "Västerås": spelled as the directory spells it, and said so.
        rules = selectors.rules_in_directory_spelling(rules=rules_from(form, formset))
        unmatched = selectors.unmatched_values(rules=rules)
        if "preview" in data or "add_rule" in data:
            preview = selectors.employees_matching(rules=rules)
            if "preview" in data:  # the rules as they will be saved
                formset = RuleFormSet(prefix="rule", initial=rule_formset_initial(rules))
        else:
            fields = {
                "name": form.cleaned_data["name"],
                "description": form.cleaned_data["description"],
                "rules": rules,
            }
            try:
                if audience is None:
                    audience = services.audience_create(project=project, by=request.user, **fields)
                else:
                    services.audience_update(audience=audience, by=request.user, **fields)
            except ValidationError as e:
                form.add_error(None, e.messages)
            else:
                messages.success(request, _("Saved."))
                for value in unmatched:
                    messages.warning(request, _unmatched_text(value))
                return redirect(audience)
    elif audience is not None:
        preview = selectors.audience_members(audience=audience)
    return render(
        request,
        "audiences/audience_rules_form.html",
        {
            "project": project,
            "membership": membership,
            "audience": audience,
            "form": form,
            "formset": formset,
            "facets": selectors.directory_facets(),
            "directory_values": {
                FIELD_LABELS[field]: selectors.directory_values(field=field)
                for field in ("department", "site", "title")
            },
            "unmatched": [_unmatched_text(value) for value in unmatched],
            "preview": preview[:PREVIEW_SIZE] if preview is not None else None,
            "preview_count": preview.count() if preview is not None else None,
        },
    )


@login_required
def audience_create(request, slug):
    project, membership = get_project_for_user(request, slug, need="edit")
    return _rules_editor(request, project, membership, None)


@login_required
def audience_create_list(request, slug):
    project, membership = get_project_for_user(request, slug, need="edit")
    form = AudienceListForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        audience = services.audience_create(
            project=project,
            by=request.user,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            kind=Audience.Kind.LIST,
        )
        if form.cleaned_data["emails"]:
            _report_paste(request, services.audience_add_emails(audience=audience, text=form.cleaned_data["emails"]))
        return redirect(audience)
    return render(request, "audiences/audience_form.html", {"project": project, "membership": membership, "form": form})


@login_required
def audience_edit(request, slug, audience_id):
    project, membership = get_project_for_user(request, slug, need="edit")
    audience = get_object_or_404(Audience, project=project, pk=audience_id)
    if audience.kind == Audience.Kind.RULES:
        return _rules_editor(request, project, membership, audience)
    form = AudienceForm(request.POST or None, project=project, audience=audience)
    if request.method == "POST" and form.is_valid():
        services.audience_update(audience=audience, by=request.user, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect(audience)
    return render(
        request,
        "audiences/audience_form.html",
        {"project": project, "membership": membership, "form": form, "audience": audience},
    )


@login_required
def audience_delete(request, slug, audience_id):
    project, membership = get_project_for_user(request, slug, need="edit")
    audience = get_object_or_404(Audience, project=project, pk=audience_id)
    if request.method == "POST":
        services.audience_delete(audience=audience, by=request.user)
        messages.success(request, _("The audience “%(name)s” was deleted.") % {"name": audience.name})
        return redirect("audiences:audience_list", project.slug)
    return render(
        request,
        "audiences/audience_confirm_delete.html",
        {"project": project, "membership": membership, "audience": audience},
    )


@require_safe
@never_cache
@login_required
def audience_count(request, slug):
    """How many people the rules in the query string match: the live count while editing. Changes nothing."""
    project, membership = get_project_for_user(request, slug)
    form = AudienceRulesForm({"combine": request.GET.get("combine", "")}, project=project)
    form.is_valid()  # only "combine" matters here: the name is not needed to count
    # Without rule rows (no management form) the audience has no rules yet: everyone.
    formset = (
        RuleFormSet(request.GET, prefix="rule") if "rule-TOTAL_FORMS" in request.GET else RuleFormSet(prefix="rule")
    )
    if (formset.is_bound and not formset.is_valid()) or "combine" in form.errors:
        return JsonResponse({"count": None, "label": _("Check the rules.")}, status=400)
    count = selectors.employees_matching(rules=rules_from(form, formset)).count()
    return JsonResponse({"count": count, "label": _people_count(count)})


def _report_paste(request, result: services.PasteResult) -> None:
    messages.success(
        request,
        ngettext("%(n)d person added.", "%(n)d people added.", len(result.added)) % {"n": len(result.added)},
    )
    if result.already:
        messages.info(request, _("Already in the audience: %(n)d.") % {"n": len(result.already)})
    if result.unknown or result.invalid:
        messages.warning(
            request,
            _("Not found in the directory: %(emails)s") % {"emails": ", ".join(result.unknown + result.invalid)},
        )
    if result.inactive:
        messages.warning(request, _("No longer active, not added: %(emails)s") % {"emails": ", ".join(result.inactive)})


def _audience_to_edit(request, slug, audience_id) -> Audience:
    project, membership = get_project_for_user(request, slug, need="edit")
    return get_object_or_404(Audience, project=project, pk=audience_id)


@require_POST
@login_required
def audience_members_add(request, slug, audience_id):
    audience = _audience_to_edit(request, slug, audience_id)
    form = PasteEmailsForm(request.POST)
    if audience.kind != Audience.Kind.LIST:
        messages.error(request, _("People are added to a rules audience by changing its rules."))
    elif form.is_valid():
        _report_paste(request, services.audience_add_emails(audience=audience, text=form.cleaned_data["emails"]))
    else:
        messages.error(request, _("Paste at least one email."))
    return redirect(audience)


@require_POST
@login_required
def audience_member_remove(request, slug, audience_id):
    audience = _audience_to_edit(request, slug, audience_id)
    form = MemberForm(request.POST)
    if audience.kind == Audience.Kind.LIST and form.is_valid():
        employee = form.cleaned_data["employee"]
        services.audience_member_remove(audience=audience, employee=employee)
        messages.success(request, _("%(name)s was removed.") % {"name": employee})
    return redirect(audience)


@require_safe
@login_required
def audience_export(request, slug, audience_id, fmt: str):
    project, membership = get_project_for_user(request, slug)
    audience = get_object_or_404(Audience, project=project, pk=audience_id)
    rows = selectors.employee_export_rows(selectors.audience_members(audience=audience))
    return spreadsheet_response(rows, _export_headers(), fmt=fmt, filename=audience.name)


@login_required
def cross_functional(request, slug):
    """Propose a balanced group (GET), let the user edit it, then save it as a list audience (POST)."""
    project, membership = get_project_for_user(request, slug, need="edit")
    facets = selectors.directory_facets()
    criteria = CrossFunctionalForm(request.GET if "departments" in request.GET else None, facets=facets)
    save_form, proposal = None, None
    if request.method == "POST":
        saving = "save" in request.POST
        save_form = CrossFunctionalSaveForm(request.POST, project=project, saving=saving)
        if save_form.is_valid():
            if saving:
                audience = services.audience_create(
                    project=project,
                    by=request.user,
                    name=save_form.cleaned_data["name"],
                    description=save_form.cleaned_data["description"],
                    kind=Audience.Kind.LIST,
                    is_cross_functional=True,
                    members=save_form.members(),
                )
                messages.success(request, _("The cross-functional group is saved."))
                return redirect(audience)
            proposal = save_form.members()
        else:
            proposal = list(save_form.cleaned_data.get("employees", []))
    elif criteria.is_valid():
        proposal = services.cross_functional_proposal(
            size=criteria.cleaned_data["size"],
            departments=criteria.cleaned_data["departments"],
            sites=criteria.cleaned_data["sites"] or None,
            seed=criteria.cleaned_data["seed"],
        )
        save_form = CrossFunctionalSaveForm(project=project, initial={"employees": proposal})
    return render(
        request,
        "audiences/cross_functional.html",
        {
            "project": project,
            "membership": membership,
            "criteria": criteria,
            "save_form": save_form,
            "proposal": proposal,
            "balance": selectors.balance_of(proposal or []),
        },
    )
