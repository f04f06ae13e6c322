from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from campaigns.permissions import get_project_for_user

from .models import Audience, Employee


@require_safe
@login_required
@permission_required("audiences.view_employee", raise_exception=True)
def employee_list(request):
    page = Paginator(Employee.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "audiences/employee_list.html", {"page": page})


@require_safe
@login_required
@permission_required("audiences.view_employee", raise_exception=True)
def employee_detail(request, pk):
    employee = get_object_or_404(Employee, pk=pk)
    return render(request, "audiences/employee_detail.html", {"employee": employee})


@require_safe
@login_required
def audience_list(request, slug):
    project, membership = get_project_for_user(request, slug)
    return render(
        request,
        "audiences/audience_list.html",
        {"project": project, "membership": membership, "audiences": project.audiences.all()},
    )


@require_safe
@login_required
def audience_detail(request, slug, pk):
    project, membership = get_project_for_user(request, slug)
    audience = get_object_or_404(Audience, project=project, pk=pk)
    return render(
        request, "audiences/audience_detail.html", {"project": project, "membership": membership, "audience": audience}
    )
