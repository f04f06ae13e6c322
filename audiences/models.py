import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.collation import people_order
from lib.translations import content_languages


def validate_time_zone(value: str) -> None:
    """An IANA time zone name such as Europe/Helsinki (or empty for the organisation's)."""
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a time zone (for example Europe/Helsinki)."), params={"value": value})


class Employee(models.Model):
    """A person in the organisation's directory, as imported from HR.

    Leavers are deactivated, never deleted; an erasure request anonymises the row and
    keeps it, so aggregate history stays true.
    """

    class Language(models.TextChoices):
        SWEDISH = "sv", _("Swedish")
        ENGLISH = "en", _("English")

    email = models.EmailField(_("email"), max_length=254)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    employee_number = models.CharField(_("employee ID"), max_length=64, null=True, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    site = models.CharField(_("site"), max_length=120, blank=True)
    title = models.CharField(_("title"), max_length=120, blank=True)
    manager = models.CharField(_("manager"), max_length=200, blank=True)
    # The manager as a person in the directory, where the source knows them (SCIM does); `manager`
    # keeps the name that is shown and that audience rules compare.
    manager_employee = models.ForeignKey(
        "self",
        verbose_name=_("manager (employee)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="direct_reports",
    )
    # Set by directory provisioning (SCIM): the identity provider's id and sign-in name for the person.
    external_id = models.CharField(_("external ID"), max_length=255, null=True, blank=True)
    # A database default too: the CSV import COPYs rows on PostgreSQL without naming this column.
    user_name = models.CharField(_("user name"), max_length=254, blank=True, default="", db_default="")
    # When the identity provider deleted the person (SCIM DELETE): a leaver kept with their history,
    # no longer seen through SCIM; a later SCIM create with their email brings the same row back.
    deprovisioned_at = models.DateTimeField(_("removed by the identity provider"), null=True, blank=True)
    # The language the person reads (CONTENT_LANGUAGES: Swedish and English, and any added there).
    language = models.CharField(_("language"), max_length=2, choices=content_languages, default=Language.SWEDISH)
    # Empty: the organisation's zone (settings.TIME_ZONE). Decides when "09:00 local time" is for them.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        default="",
        db_default="",
        validators=[validate_time_zone],
        help_text=_("For example Europe/Helsinki or Europe/London. Empty: the organisation's time zone."),
    )
    extra = models.JSONField(_("extra attributes"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = people_order()  # Swedish alphabetical order: Å, Ä, Ö after Z
        constraints = [
            models.UniqueConstraint(Lower("email"), name="employee_unique_email_ci"),
            models.UniqueConstraint(fields=["employee_number"], name="employee_unique_number"),
            # SCIM: `externalId eq "…"` looks a person up by it (the constraint's index serves that filter).
            models.UniqueConstraint(fields=["external_id"], name="employee_unique_external_id"),
            # SCIM: `userName eq "…"` is compared regardless of case (RFC 7643: userName is not case-exact).
            models.UniqueConstraint(
                Lower("user_name"), condition=~models.Q(user_name=""), name="employee_unique_user_name_ci"
            ),
        ]
        indexes = [
            # directory filters and audience rules: department = X, site = Y
            models.Index(fields=["department"], name="employee_department_idx"),
            models.Index(fields=["site"], name="employee_site_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_absolute_url(self) -> str:
        return reverse("audiences:employee_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class DirectoryImport(models.Model):
    """One uploaded HR export: who brought it, what it did, and the rows it refused."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWED = "previewed", _("Previewed")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file = models.FileField(upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.UPLOADED)
    # What the sniffer found (encoding, delimiter, sheet, header row) and the chosen column mapping.
    detected = models.JSONField(default=dict, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    deactivate_missing = models.BooleanField(_("deactivate employees missing from the file"), default=False)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"row": 12, "email": "...", "reason": "..."}]
    row_errors = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("directory import")
        verbose_name_plural = _("directory imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class Audience(models.Model):
    """A named group of employees in one project: by rules over fields, or a hand-picked list."""

    class Kind(models.TextChoices):
        RULES = "rules", _("By rules")
        LIST = "list", _("By list")

    project = models.ForeignKey("campaigns.ChangeProject", on_delete=models.CASCADE, related_name="audiences")
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind, default=Kind.RULES)
    # {"combine": "and"|"or", "rules": [{"field": "department", "op": "in"|"not_in"|"contains", "values": [...]}]}
    rules = models.JSONField(default=dict, blank=True)
    is_cross_functional = models.BooleanField(_("cross-functional group"), default=False)
    members = models.ManyToManyField(Employee, blank=True, related_name="listed_in", through="AudienceMember")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="audience_unique_name_per_project")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("audiences:audience_detail", args=[self.project.slug, self.pk])


class AudienceMember(models.Model):
    """A hand-picked member of a list audience."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE)
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE)
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audience", "employee"], name="audience_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} in {self.audience_id}"


class EmployeeChange(models.Model):
    """One change to one employee, with where it came from: the directory's history, person by person.

    Only the names of the changed fields are kept, never their values, so an erasure leaves
    nothing personal behind here. SCIM writes one row per request, a CSV import one per person
    it creates, changes, reactivates or deactivates (besides the import's own summary).
    """

    class Source(models.TextChoices):
        SCIM = "scim", _("Directory provisioning (SCIM)")
        CSV = "csv", _("CSV import")

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        DEACTIVATED = "deactivated", _("Deactivated")
        REACTIVATED = "reactivated", _("Reactivated")

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="changes")
    source = models.CharField(_("source"), max_length=8, choices=Source)
    action = models.CharField(_("action"), max_length=12, choices=Action)
    fields = models.JSONField(_("fields changed"), default=list, blank=True)
    scim_token = models.ForeignKey(
        "audiences.ScimToken", verbose_name=_("SCIM token"), null=True, blank=True, on_delete=models.SET_NULL
    )
    directory_import = models.ForeignKey(
        DirectoryImport, verbose_name=_("directory import"), null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("employee change")
        verbose_name_plural = _("employee changes")
        ordering = ["-at", "-id"]
        indexes = [
            # an employee's history, newest first
            models.Index(fields=["employee", "-at"], name="employee_change_history_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.get_source_display()})"

    def field_labels(self) -> list[str]:
        """The changed fields as the directory names them, in the reader's language."""
        names = {
            field.name: field.verbose_name for field in Employee._meta.get_fields() if hasattr(field, "verbose_name")
        }
        return [str(names.get(name, name)) for name in self.fields]


from audiences.scim.models import ScimToken  # noqa: E402  gathered here: the app's models module

__all__ = ["Audience", "AudienceMember", "DirectoryImport", "Employee", "EmployeeChange", "ScimToken"]
