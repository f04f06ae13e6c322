"""Forms for the assets of a launch plan, one per channel.

Every text an employee will read is checked for merge-field problems here, so a
template tag or an unknown field is refused with an error naming it before anything
is saved. Uploads are checked by content, not by name.
"""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.validators import validate_email
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from audiences.models import Audience
from campaigns.delivery import merge
from campaigns.models import Asset, ChangeProject, Channel, MeetingSession, ProjectImage, ReplyTo
from campaigns.projects.forms import RICH_TEXT_ATTRS
from lib.images import ImageRejected, process_image

VIDEO_MAX_BYTES = 500 * 1024 * 1024
CAPTIONS_MAX_BYTES = 512 * 1024
# Hosts a film link may point to; a leading dot means "any subdomain of".
VIDEO_HOSTS = (
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "youtu.be",
    "vimeo.com",
    "www.vimeo.com",
    "player.vimeo.com",
    ".sharepoint.com",
    "web.microsoftstream.com",
)
MERGE_CHECKED = ("subject", "preheader", "headline", "body", "button_label")
EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def video_host_allowed(url: str) -> bool:
    """True when `url` is an https link to one of the allowed video providers."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https" or parts.username or parts.password or port not in (None, 443) or not host:
        return False
    for allowed in VIDEO_HOSTS:
        if allowed.startswith(".") and host.endswith(allowed) and len(host) > len(allowed):
            return True
        if host == allowed:
            return True
    return False


def _read_head(upload, limit: int, size_limit: int) -> bytes:
    if upload.size > size_limit:
        raise forms.ValidationError(
            _("The file is %(size)s; the limit is %(limit)s."),
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(size_limit)},
            code="too_big",
        )
    upload.seek(0)
    head = upload.read(limit)
    upload.seek(0)
    return head


def checked_captions(upload):
    """A WebVTT upload checked by its content: UTF-8 text that starts with WEBVTT, within the size limit."""
    if not upload:
        return None
    if not upload.name.lower().endswith(".vtt"):
        raise forms.ValidationError(_("Captions must be a WebVTT (.vtt) file."), code="captions_type")
    head = _read_head(upload, CAPTIONS_MAX_BYTES, CAPTIONS_MAX_BYTES)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError(_("Captions must be UTF-8 text."), code="captions_encoding") from None
    if not text.startswith("WEBVTT") or text[6:7] not in ("", " ", "\t", "\n", "\r"):
        raise forms.ValidationError(_("A WebVTT file starts with the word WEBVTT."), code="captions_content")
    return upload


class AssetForm(forms.ModelForm):
    """What every asset has: a title, a stage, audiences and a time on the plan."""

    TIMING_RELATIVE, TIMING_FIXED = "relative", "fixed"

    timing = forms.ChoiceField(
        label=_("Timing"),
        choices=[(TIMING_RELATIVE, _("Relative to go-live")), (TIMING_FIXED, _("On a fixed date"))],
        widget=forms.RadioSelect,
        initial=TIMING_RELATIVE,
    )

    class Meta:
        model = Asset
        fields = ["title", "stage", "audiences", "timing", "offset_days", "local_time", "fixed_at", "is_milestone"]
        widgets = {
            "audiences": forms.CheckboxSelectMultiple,
            "local_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "fixed_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "offset_days": forms.NumberInput(attrs={"placeholder": "-21"}),
        }
        help_texts = {"offset_days": _("Negative before go-live, positive after: -21 is three weeks before.")}

    def __init__(self, *args, project: ChangeProject, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["audiences"].queryset = Audience.objects.filter(project=project).order_by("name")
        if self.instance.pk and self.instance.fixed_at:
            self.fields["timing"].initial = self.TIMING_FIXED
        if "body" in self.fields:
            self.fields["body"].widget = forms.Textarea(attrs=RICH_TEXT_ATTRS)
            self.fields["body"].help_text = _("Merge fields you can use: %(fields)s") % {
                "fields": " ".join(f"{{{{ {name} }}}}" for name in merge.FIELDS)
            }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("timing") == self.TIMING_FIXED:
            if not cleaned.get("fixed_at"):
                self.add_error("fixed_at", _("Choose the date and time."))
        elif cleaned.get("offset_days") is None:
            self.add_error("offset_days", _("How many days before (negative) or after go-live?"))
        else:
            cleaned["fixed_at"] = None
        for name in MERGE_CHECKED:
            if name in self.fields and name in cleaned:
                for problem in merge.find_problems(cleaned[name]):
                    self.add_error(name, problem.message)
        return cleaned

    def sections(self) -> list[tuple[str, list]]:
        """The form's fields in labelled groups, in the order a writer fills them in."""
        groups = [
            (_("The asset"), ["title", "stage", "audiences"]),
            (_("When"), ["timing", "offset_days", "local_time", "fixed_at", "is_milestone"]),
            (_("Sender"), ["sender_kind", "sender_name", "sender_email", "reply_to"]),
            (_("Words"), ["subject", "preheader", "headline", "body", "button_label", "meeting"]),
            (_("Film"), ["video_url", "video_upload", "captions_upload"]),
            (_("Image"), ["image", "image_upload", "image_alt"]),
        ]
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in groups
            if any(name in self.fields for name in names)
        ]

    def asset_fields(self) -> dict:
        """The model fields to hand to `plan.asset_create` / `plan.asset_update`."""
        fields = {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if name not in ("audiences", "timing") and name in self.cleaned_data
        }
        return fields


class ImageFieldsMixin(forms.Form):
    """An image from the safe pipeline (with required alt text), or one the project already has."""

    image = forms.ModelChoiceField(
        label=_("Image"), queryset=ProjectImage.objects.none(), required=False, empty_label=_("No image")
    )
    image_upload = forms.FileField(
        label=_("Or upload a new image"), required=False, help_text=_("JPEG, PNG or WebP, ideally 1200 px wide.")
    )
    image_alt = forms.CharField(
        label=_("Image description (alt text)"),
        required=False,
        max_length=250,
        help_text=_("What the image shows, for people who cannot see it."),
    )

    def _setup_images(self) -> None:
        self.fields["image"].queryset = ProjectImage.objects.filter(project=self.project).order_by("-created_at")
        self.fields["image"].label_from_instance = lambda img: img.alt_text or str(img)
        if self.instance.image_id:
            self.fields["image_alt"].initial = self.instance.image.alt_text

    def clean_image_upload(self):
        upload = self.cleaned_data.get("image_upload")
        if not upload:
            return None
        try:
            return process_image(upload)
        except ImageRejected as exc:
            raise forms.ValidationError(str(exc), code="image") from None

    def _clean_image_alt(self, cleaned: dict) -> None:
        has_image = cleaned.get("image_upload") or cleaned.get("image")
        existing_alt = cleaned["image"].alt_text if cleaned.get("image") else ""
        if (
            has_image
            and not (cleaned.get("image_alt") or "").strip()
            and not (existing_alt and not cleaned.get("image_upload"))
        ):
            self.add_error("image_alt", _("Describe the image for people who cannot see it."))


class EmailAssetForm(ImageFieldsMixin, AssetForm):
    class Meta(AssetForm.Meta):
        fields = AssetForm.Meta.fields + [
            "subject",
            "preheader",
            "sender_kind",
            "sender_name",
            "sender_email",
            "reply_to",
            "headline",
            "image",
            "body",
            "button_label",
            "meeting",
        ]
        widgets = AssetForm.Meta.widgets | {"sender_kind": forms.RadioSelect, "reply_to": forms.RadioSelect}
        labels = {"headline": _("Heading in the email")}
        help_texts = AssetForm.Meta.help_texts | {
            "headline": _("Leave empty to use the subject."),
            "subject": _("Under 50 characters reads best on phones."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_images()
        self.fields["meeting"].queryset = Asset.objects.filter(project=self.project, channel=Channel.MEETING)
        self.fields["subject"].required = True
        self.fields["reply_to"].required = False  # a form without the choice keeps the default

    def clean(self):
        cleaned = super().clean()
        self._clean_image_alt(cleaned)
        if cleaned.get("sender_kind") == "named" and not cleaned.get("sender_name"):
            self.add_error("sender_name", _("Whose name should the email come from?"))
        cleaned["reply_to"] = cleaned.get("reply_to") or ReplyTo.SENDER
        if cleaned.get("reply_to") == ReplyTo.MAILBOX and not self.project.function_mailbox:
            self.add_error("reply_to", _("The project has no function mailbox yet. Add one in the project's settings."))
        return cleaned


class PrintAssetForm(ImageFieldsMixin, AssetForm):
    """Handout (A4), poster (A3) and flyer (A5). The QR code always leads to the project's landing page."""

    class Meta(AssetForm.Meta):
        fields = AssetForm.Meta.fields + ["headline", "body", "image"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_images()
        self.fields["headline"].required = True

    def clean(self):
        cleaned = super().clean()
        self._clean_image_alt(cleaned)
        return cleaned


class NewsAssetForm(AssetForm):
    class Meta(AssetForm.Meta):
        fields = AssetForm.Meta.fields + ["headline", "body"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["headline"].required = True


class MeetingAssetForm(AssetForm):
    class Meta(AssetForm.Meta):
        fields = AssetForm.Meta.fields + ["headline", "body"]
        labels = {"headline": _("Meeting name shown to employees")}


class FilmAssetForm(ImageFieldsMixin, AssetForm):
    """A film: an uploaded video (MP4 or WebM) with captions, or a link to an allowed provider."""

    video_upload = forms.FileField(
        label=_("Video file"),
        required=False,
        help_text=_("MP4 or WebM."),
        widget=forms.FileInput(attrs={"accept": "video/mp4,video/webm"}),
    )
    video_url = forms.URLField(
        label=_("Video link"),
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=_("YouTube, Vimeo, SharePoint or Microsoft Stream. Or upload a file below."),
    )
    captions_upload = forms.FileField(
        label=_("Captions (WebVTT)"),
        required=False,
        help_text=_("A .vtt file: many watch without sound."),
        widget=forms.FileInput(attrs={"accept": ".vtt,text/vtt"}),
    )

    class Meta(AssetForm.Meta):
        fields = AssetForm.Meta.fields + ["headline", "body", "video_url", "image"]
        labels = {"image": _("Poster image")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_images()
        self.fields["image"].label = _("Poster image")

    def clean_video_url(self) -> str:
        url = self.cleaned_data.get("video_url", "").strip()
        if url and not video_host_allowed(url):
            raise forms.ValidationError(
                _("Films can be linked from YouTube, Vimeo, SharePoint or Microsoft Stream only (https)."),
                code="video_host",
            )
        return url

    def clean_video_upload(self):
        upload = self.cleaned_data.get("video_upload")
        if not upload:
            return None
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if extension not in ("mp4", "webm"):
            raise forms.ValidationError(_("Upload an MP4 or WebM video."), code="video_type")
        head = _read_head(upload, 64, VIDEO_MAX_BYTES)
        is_mp4 = len(head) >= 12 and head[4:8] == b"ftyp"
        is_webm = head.startswith(EBML_MAGIC) and b"webm" in head
        if (extension == "mp4" and not is_mp4) or (extension == "webm" and not is_webm):
            raise forms.ValidationError(
                _("This file is not a real %(kind)s video."), params={"kind": extension.upper()}, code="video_content"
            )
        return upload

    def clean_captions_upload(self):
        return checked_captions(self.cleaned_data.get("captions_upload"))

    def clean(self):
        cleaned = super().clean()
        self._clean_image_alt(cleaned)
        if cleaned.get("video_url") and cleaned.get("video_upload"):
            self.add_error("video_url", _("Link to the film or upload it, not both."))
        return cleaned

    def asset_fields(self) -> dict:
        fields = super().asset_fields()
        if self.cleaned_data.get("video_upload"):
            fields["video"] = self.cleaned_data["video_upload"]
            fields["video_url"] = ""
        elif self.cleaned_data.get("video_url"):
            fields["video"] = ""
        if self.cleaned_data.get("captions_upload"):
            fields["captions"] = self.cleaned_data["captions_upload"]
        return fields


FORMS_BY_CHANNEL: dict[str, type[AssetForm]] = {
    Channel.EMAIL: EmailAssetForm,
    Channel.MEETING: MeetingAssetForm,
    Channel.HANDOUT: PrintAssetForm,
    Channel.POSTER: PrintAssetForm,
    Channel.FLYER: PrintAssetForm,
    Channel.FILM: FilmAssetForm,
    Channel.NEWS: NewsAssetForm,
}


def form_for_channel(channel: str) -> type[AssetForm]:
    return FORMS_BY_CHANNEL[channel]


class MeetingSessionForm(forms.ModelForm):
    online_url = forms.URLField(label=_("Online link"), required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = MeetingSession
        fields = ["starts_at", "ends_at", "site", "place", "online_url", "capacity"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def clean_online_url(self) -> str:
        url = self.cleaned_data.get("online_url", "")
        if url and urlsplit(url).scheme not in ("https", "http"):
            raise forms.ValidationError(_("Enter an http or https link."), code="scheme")
        return url

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The session must end after it starts."))
        if not cleaned.get("place") and not cleaned.get("online_url") and (starts or ends):
            self.add_error("place", _("Give a place, an online link, or both."))
        return cleaned


# Three empty rows: a meeting's sessions (one per site, say) are entered in one go; empty rows are left out.
MeetingSessionFormSet = forms.inlineformset_factory(
    Asset, MeetingSession, form=MeetingSessionForm, extra=3, can_delete=True, max_num=200, validate_max=True
)


TEST_SEND_MAX_ADDRESSES = 5


class TestSendForm(forms.Form):
    """Where a test of an email goes (a few addresses: colleagues, a phone, an Outlook account) and in
    which language it is rendered."""

    to = forms.CharField(
        label=_("Send a test to"),
        max_length=1000,
        help_text=_("Up to five addresses, separated by commas."),
    )
    language = forms.ChoiceField(label=_("Language"), required=False)

    def __init__(self, *args, languages=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The person's own")), *(languages or settings.LANGUAGES)]

    def clean_to(self) -> list[str]:
        addresses = [
            a.strip() for a in self.cleaned_data["to"].replace(";", ",").replace("\n", ",").split(",") if a.strip()
        ]
        if not addresses:
            raise forms.ValidationError(_("Enter at least one address."))
        if len(addresses) > TEST_SEND_MAX_ADDRESSES:
            raise forms.ValidationError(
                _("A test goes to at most %(n)d addresses.") % {"n": TEST_SEND_MAX_ADDRESSES}, code="too_many"
            )
        for address in addresses:
            validate_email(address)
        return list(dict.fromkeys(address.lower() for address in addresses))
