"""Print builder: the render state of handouts, posters and flyers, their previews, PDFs and the print pack.

Viewers may look and download; editors and owners may (re-)render; outsiders get a 404.

The builder page links to its PDFs and previews through signed, expiring file links
(`print_file`): the signature names the stored file, so serving one needs no database
query. A link dies when it expires or when the variant is re-rendered (the file is
replaced), and it is only ever handed to team members. `print_download` is the
permanent, session-checked address of a variant's current PDF.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from campaigns.models import Asset, PrintRender
from campaigns.printing import services as printing
from campaigns.projects.permissions import get_project_for_user


class RenderForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    print_ready = forms.BooleanField(label=gettext_lazy("Print-ready: 3 mm bleed and crop marks"), required=False)
    force = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = project.language_choices  # the project's content languages only


FILE_LINK_SALT = "campaigns.print_file"
FILE_LINK_MAX_AGE = 60 * 60
FILE_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}  # .png: previews made before JPEG
# Files up to this size are sent in one piece; larger ones (a print pack, a huge poster) stream.
INLINE_MAX_BYTES = 4 * 1024 * 1024


def file_link(name: str, filename: str = "") -> str:
    """A signed link to one stored print file, valid for FILE_LINK_MAX_AGE seconds."""
    token = signing.dumps([name, filename], salt=FILE_LINK_SALT)
    return reverse("campaigns:print_file", args=[token])


def _print_asset(project, asset_id: int) -> Asset:
    return get_object_or_404(project.assets.filter(channel__in=list(printing.TEMPLATES)), pk=asset_id)


def _render_of(project, render_id: int) -> PrintRender:
    return get_object_or_404(
        PrintRender.objects.select_related("asset"),
        pk=render_id,
        asset__project=project,
        status=PrintRender.Status.DONE,
    )


@require_safe
@login_required
def print_overview(request, slug):
    project, membership = get_project_for_user(request, slug)
    assets = (
        project.assets.filter(channel__in=list(printing.TEMPLATES))
        .exclude(status=Asset.Status.CANCELLED)
        .prefetch_related("print_renders")
        .order_by("offset_days", "id")
    )
    return render(
        request,
        "campaigns/print_overview.html",
        {"project": project, "membership": membership, "assets": assets},
    )


@require_safe
@login_required
def print_asset(request, slug, asset_id):
    project, membership = get_project_for_user(request, slug)
    asset = _print_asset(project, asset_id)
    renders = list(asset.print_renders.all())
    for item in renders:
        item.stuck = printing.is_stuck(item)
        if item.status == PrintRender.Status.DONE:
            item.pdf_link = file_link(item.pdf.name, item.filename)
            item.preview_links = [file_link(name) for name in item.previews]
    busy = any(r.status in (PrintRender.Status.PENDING, PrintRender.Status.RENDERING) for r in renders)
    return render(
        request,
        "campaigns/print_asset.html",
        {
            "project": project,
            "membership": membership,
            "asset": asset,
            "renders": renders,
            "busy": busy,
            "form": RenderForm(initial={"language": project.language}, project=project),
        },
    )


@require_POST
@login_required
def print_render_request(request, slug, asset_id):
    project, _membership = get_project_for_user(request, slug, need="edit")
    asset = _print_asset(project, asset_id)
    form = RenderForm(request.POST, project=project)
    if form.is_valid():
        data = form.cleaned_data
        printing.print_request(
            asset=asset,
            language=data["language"] or None,
            print_ready=data["print_ready"] if data["language"] else None,
            force=data["force"],
        )
        messages.success(request, _("The PDF is being made. This page updates by itself."))
    return redirect("campaigns:print_asset", slug=project.slug, asset_id=asset.pk)


@require_safe
@login_required
def print_download(request, slug, render_id):
    """Serve a rendered PDF from storage; an unchanged render answers a conditional request with 304."""
    # The hot path: one query finds the render and checks the team membership (outsiders get a 404).
    pdf = get_object_or_404(
        PrintRender.objects.select_related("asset").only(
            "pdf", "content_hash", "site", "language", "print_ready", "asset__title"
        ),
        pk=render_id,
        status=PrintRender.Status.DONE,
        asset__project__slug=slug,
        asset__project__memberships__user=request.user,
    )
    etag = f'"{pdf.content_hash}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    try:
        handle = pdf.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type="application/pdf", as_attachment=True, filename=pdf.filename)
    response.block_size = 1 << 16  # fewer, larger chunks when no wsgi.file_wrapper (sendfile) is there
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


@require_safe
def print_file(request, token):
    """The fast path: a PDF or preview straight from storage, for a signed link from the builder page."""
    try:
        name, filename = signing.loads(token, salt=FILE_LINK_SALT, max_age=FILE_LINK_MAX_AGE)
    except (signing.BadSignature, ValueError):
        raise Http404 from None
    content_type = FILE_TYPES.get(name[name.rfind(".") :].lower())
    if content_type is None:
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    if handle.size <= INLINE_MAX_BYTES:
        # A handout or a preview is a few hundred KB: one write, without the streaming machinery.
        with handle:
            response = HttpResponse(handle.read(), content_type=content_type)
        if filename:
            response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    else:
        response = FileResponse(handle, content_type=content_type, as_attachment=bool(filename), filename=filename)
        response.block_size = 1 << 16
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_safe
@login_required
def print_preview(request, slug, render_id, page):
    project, _membership = get_project_for_user(request, slug)
    pdf = _render_of(project, render_id)
    if not 1 <= page <= len(pdf.previews):
        raise Http404
    name = pdf.previews[page - 1]
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=FILE_TYPES.get(name[name.rfind(".") :].lower(), "image/jpeg"))
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_safe
@login_required
def print_pack_download(request, slug):
    project, _membership = get_project_for_user(request, slug)
    renders = printing.print_renders_for_project(project=project)
    if not renders:
        messages.info(request, _("There are no rendered PDFs yet."))
        return redirect("campaigns:print_overview", slug=project.slug)
    response = HttpResponse(printing.print_pack(renders=renders), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{slugify(project.slug)}-print-pack.zip"'
    return response
