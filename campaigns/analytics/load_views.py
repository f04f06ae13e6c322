"""The organisation view of change load: a week-by-department grid across every project.

Staff users and change managers only (404 for everyone else): it counts people across the
whole directory, so it never names an employee, and names only the viewer's own projects.
"""

import datetime
import re

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from campaigns.analytics import load

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def _parse_week(value: str) -> datetime.date | None:
    """The Monday of "2026-W49" (an <input type="week">) or of the week of "2026-12-02"."""
    value = (value or "").strip()
    match = _ISO_WEEK.match(value)
    try:
        if match:
            return datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        return load.week_start(datetime.date.fromisoformat(value))
    except ValueError:
        return None


class WeekInput(forms.TextInput):
    input_type = "week"


class LoadForm(forms.Form):
    threshold = forms.IntegerField(
        label=_("More than this many assets a week"),
        min_value=1,
        max_value=50,
        initial=load.DEFAULT_THRESHOLD,
    )
    start = forms.CharField(label=_("From week"), widget=WeekInput(), required=False)

    def clean_start(self) -> datetime.date:
        raw = self.cleaned_data.get("start")
        if not raw:
            return load.week_start(timezone.localdate())
        day = _parse_week(raw)
        if day is None:
            raise forms.ValidationError(_("Enter a week such as 2026-W49."))
        return day


@require_safe
@login_required
def organisation_load(request):
    if not load.can_see_load(request.user):
        raise Http404
    this_week = load.week_start(timezone.localdate())
    data = {"threshold": load.DEFAULT_THRESHOLD, "start": load.iso_week(this_week)} | request.GET.dict()
    form = LoadForm(data)
    if form.is_valid():
        start, threshold = form.cleaned_data["start"], form.cleaned_data["threshold"]
    else:
        start, threshold = this_week, load.DEFAULT_THRESHOLD
    detail_week = _parse_week(request.GET.get("week", ""))
    department = request.GET.get("department")
    detail = (department, detail_week) if department is not None and detail_week else None
    result = load.organisation_load(start=start, threshold=threshold, user=request.user, detail=detail)
    context = {
        "form": form,
        "load": result,
        "start_param": load.iso_week(start),
        "this_week": this_week,
    }
    return render(request, "campaigns/load.html", context)
