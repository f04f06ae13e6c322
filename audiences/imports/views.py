"""The directory import in the browser: upload → mapping → preview → apply → status and history."""

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from audiences.models import DirectoryImport

from .detection import Detected
from .errors import ImportRefused
from .forms import ImportMappingForm, ImportUploadForm
from .services import (
    directory_import_create,
    directory_import_plan,
    directory_import_preview,
    directory_import_start,
    rejected_rows_csv_lines,
)

OPEN = (DirectoryImport.Status.UPLOADED, DirectoryImport.Status.PREVIEWED)


@require_safe
@login_required
@permission_required("audiences.view_directoryimport", raise_exception=True)
def import_list(request):
    imports_ = DirectoryImport.objects.select_related("uploaded_by")
    page = Paginator(imports_, 25).get_page(request.GET.get("page"))
    return render(request, "audiences/import_list.html", {"page": page})


@login_required
@permission_required("audiences.add_directoryimport", raise_exception=True)
def import_upload(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            directory_import = directory_import_create(file=form.cleaned_data["file"], by=request.user)
        except ImportRefused as refused:
            form.add_error("file", refused.message)
        else:
            return redirect("audiences:import_mapping", directory_import.pk)
    return render(request, "audiences/import_upload.html", {"form": form})


@login_required
@permission_required("audiences.add_directoryimport", raise_exception=True)
def import_mapping(request, pk):
    directory_import = get_object_or_404(DirectoryImport, pk=pk)
    if directory_import.status not in OPEN:
        return redirect("audiences:import_detail", pk)
    detected = Detected.from_dict(directory_import.detected)
    form = ImportMappingForm(
        request.POST or None,
        detected=detected,
        mapping=directory_import.mapping,
        initial={"deactivate_missing": directory_import.deactivate_missing},
    )
    if request.method == "POST" and form.is_valid():
        try:
            directory_import_preview(
                directory_import=directory_import,
                mapping=form.mapping(),
                deactivate_missing=form.cleaned_data["deactivate_missing"],
            )
        except ImportRefused as refused:
            form.add_error(None, refused.message)
        else:
            return redirect("audiences:import_preview", pk)
    return render(
        request,
        "audiences/import_mapping.html",
        {"directory_import": directory_import, "detected": detected, "form": form},
    )


@require_safe
@login_required
@permission_required("audiences.add_directoryimport", raise_exception=True)
def import_preview(request, pk):
    directory_import = get_object_or_404(DirectoryImport, pk=pk)
    if directory_import.status != DirectoryImport.Status.PREVIEWED:
        return redirect(
            "audiences:import_mapping" if directory_import.status in OPEN else "audiences:import_detail", pk
        )
    try:
        result = directory_import_plan(
            source=directory_import.file,
            mapping=directory_import.mapping,
            deactivate_missing=directory_import.deactivate_missing,
            detected=Detected.from_dict(directory_import.detected),
        )
    except ImportRefused as refused:
        messages.error(request, refused.message)
        return redirect("audiences:import_mapping", pk)
    return render(
        request,
        "audiences/import_preview.html",
        {
            "directory_import": directory_import,
            "result": result,
            "in_background": result.total_rows > settings.IMPORT_INLINE_MAX_ROWS,
        },
    )


@require_POST
@login_required
@permission_required("audiences.add_directoryimport", raise_exception=True)
def import_apply(request, pk):
    directory_import = get_object_or_404(DirectoryImport, pk=pk)
    if directory_import.status == DirectoryImport.Status.PREVIEWED:
        if directory_import_start(directory_import=directory_import, by=request.user):
            messages.info(request, _("The import runs in the background; this page shows its progress."))
        elif directory_import.status == DirectoryImport.Status.DONE:
            messages.success(request, _("The import is done."))
    return redirect("audiences:import_detail", pk)


@require_safe
@login_required
@permission_required("audiences.view_directoryimport", raise_exception=True)
def import_detail(request, pk):
    directory_import = get_object_or_404(DirectoryImport.objects.select_related("uploaded_by"), pk=pk)
    return render(
        request,
        "audiences/import_detail.html",
        {"directory_import": directory_import, "progress": _progress(directory_import)},
    )


@require_safe
@login_required
@permission_required("audiences.view_directoryimport", raise_exception=True)
def import_status(request, pk):
    directory_import = get_object_or_404(DirectoryImport, pk=pk)
    return JsonResponse(_progress(directory_import))


@require_safe
@login_required
@permission_required("audiences.view_directoryimport", raise_exception=True)
def import_rejected_csv(request, pk):
    directory_import = get_object_or_404(DirectoryImport, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-{directory_import.pk}.csv"'
    response.write("\ufeff")  # so Excel reads UTF-8: å, ä and ö intact
    writer = csv.writer(response, delimiter=";")
    writer.writerows(rejected_rows_csv_lines(directory_import))
    return response


def _progress(directory_import: DirectoryImport) -> dict:
    total, done = directory_import.total_rows, directory_import.processed_rows
    finished = directory_import.status in (DirectoryImport.Status.DONE, DirectoryImport.Status.FAILED)
    percent = 100 if finished else (min(99, done * 100 // total) if total else 0)
    return {
        "status": directory_import.status,
        "status_label": directory_import.get_status_display(),
        "processed_rows": done,
        "total_rows": total,
        "percent": percent,
        "finished": finished,
        "label": _("%(done)s of %(total)s rows") % {"done": done, "total": total},
    }
