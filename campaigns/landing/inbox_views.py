"""The team's inbox of questions from the landing page: read (members), answer and publish (editors)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from campaigns.landing import services as landing
from campaigns.landing.forms import AnswerForm, ComprehensionForm
from campaigns.models import Comprehension, ErasureRequest, Question
from campaigns.plan.translation_views import language_rows
from campaigns.projects.permissions import get_project_for_user

FILTERS = ("open", "answered", "published", "all")


def _filtered(project, show: str):
    questions = project.questions.select_related("answered_by").order_by("-created_at", "-id")
    if show == "open":
        return questions.filter(answer="")
    if show == "answered":
        return questions.exclude(answer="").filter(is_published=False)
    if show == "published":
        return questions.filter(is_published=True)
    return questions


@require_safe
@login_required
def inbox(request, slug):
    project, membership = get_project_for_user(request, slug)
    show = request.GET.get("show", "open")
    if show not in FILTERS:
        show = "open"
    counts = project.questions.aggregate(
        open=Count("id", filter=Q(answer="")),
        answered=Count("id", filter=~Q(answer="") & Q(is_published=False)),
        published=Count("id", filter=Q(is_published=True)),
        all=Count("id"),
    )
    questions = list(_filtered(project, show)[:200])
    rows = [
        {"question": q, "form": AnswerForm(initial={"answer": q.answer, "publish": q.is_published}, prefix=f"q{q.pk}")}
        for q in questions
    ]
    return render(
        request,
        "campaigns/inbox.html",
        {
            "project": project,
            "membership": membership,
            "rows": rows,
            "show": show,
            "filters": [(f, counts[f]) for f in FILTERS],
            "landing_url": reverse("landing:general", args=[project.slug]),
            # Requests to be erased, until the directory's erase flow has done it.
            "erasure_requests": list(
                ErasureRequest.objects.filter(project=project, employee__erased_at__isnull=True).select_related(
                    "employee"
                )
            ),
        },
    )


@require_POST
@login_required
def question_answer(request, slug, pk):
    project, _membership = get_project_for_user(request, slug, need="edit")
    question = get_object_or_404(Question, pk=pk, project=project)
    form = AnswerForm(request.POST, prefix=f"q{question.pk}")
    show = request.POST.get("show", "open")
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(f"{reverse('campaigns:inbox', args=[project.slug])}?show={show}#q{question.pk}")
    question = landing.question_answer(
        question=question, answer=form.cleaned_data["answer"], publish=form.cleaned_data["publish"], by=request.user
    )
    if question.is_published:
        messages.success(request, _("Answer saved and published on the landing page."))
    else:
        messages.success(request, _("Answer saved. It is not published."))
    return redirect(f"{reverse('campaigns:inbox', args=[project.slug])}?show={show if show in FILTERS else 'open'}")


@require_POST
@login_required
def question_delete(request, slug, pk):
    project, _membership = get_project_for_user(request, slug, need="edit")
    question = get_object_or_404(Question, pk=pk, project=project)
    landing.question_delete(question=question, by=request.user)
    messages.success(request, _("The question is deleted."))
    return redirect("campaigns:inbox", slug=project.slug)


@login_required
def comprehension_edit(request, slug):
    """The project's comprehension question: read by members, set and changed by editors."""
    project, membership = get_project_for_user(request, slug, need="edit" if request.method == "POST" else "view")
    question = Comprehension.objects.filter(project=project).first()
    form = ComprehensionForm(request.POST or None, instance=question)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        landing.comprehension_save(project=project, by=request.user, **fields)
        messages.success(request, _("The question is on the landing page."))
        return redirect("campaigns:comprehension", slug=project.slug)
    return render(
        request,
        "campaigns/comprehension_form.html",
        {
            "project": project,
            "membership": membership,
            "form": form,
            "question": question,
            "languages": language_rows(project, question, "campaigns:question_translate") if question else [],
        },
        status=400 if request.method == "POST" else 200,
    )
