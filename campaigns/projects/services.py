"""Every write to a change project goes through a function here."""

import io
import logging
import os

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from PIL import Image as PILImage

from campaigns.models import ChangeProject, Membership, ProjectImage
from campaigns.printing import services as printing
from lib.images import ProcessedImage
from lib.richtext import sanitize_html
from lib.tasks import task_queue_on_commit

logger = logging.getLogger(__name__)
User = get_user_model()
# Queued by name (campaigns/projects/tasks.py).
NOTIFY_TASK = "campaigns.tasks.notify"

RICH_TEXT_FIELDS = ("why", "what_changes", "how_it_affects_me")
# Paths under /projects/ that are pages of their own, not projects (see campaigns/urls.py).
RESERVED_SLUGS = frozenset({"new", "load", "outbox", "print"})


def _unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:70] or "project"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or ChangeProject.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _sanitize(fields: dict) -> dict:
    return {k: sanitize_html(v) if k in RICH_TEXT_FIELDS else v for k, v in fields.items()}


@transaction.atomic
def project_create(*, by, **fields) -> ChangeProject:
    """Create a project with `by` as its first owner."""
    fields = _sanitize(fields)
    if not fields.get("slug"):
        fields["slug"] = _unique_slug(fields["name"])
    project = ChangeProject.objects.create(created_by=by, **fields)
    Membership.objects.create(project=project, user=by, role=Membership.Role.OWNER, invited_by=by)
    logger.info("project %s created by user %s", project.slug, by.pk)
    return project


@transaction.atomic
def project_update(*, project: ChangeProject, by, **fields) -> ChangeProject:
    """Change a project's fields; rich text is sanitised on the way in."""
    for name, value in _sanitize(fields).items():
        setattr(project, name, value)
    project.full_clean(exclude=["logo", "hero_image"])
    project.save()
    printing.print_schedule_project(project=project)
    return project


@transaction.atomic
def project_translate(*, project: ChangeProject, language: str, values: dict, by) -> ChangeProject:
    """Store `language`'s version of the project's story (lede, why, what changes, how it affects me)."""
    project = ChangeProject.objects.select_for_update().get(pk=project.pk)
    if language not in project.other_languages:
        raise ValidationError(_("This project has no version in that language. Add the language to the project first."))
    project.set_translation(language, _sanitize(values))
    project.save(update_fields=["translations", "updated_at"])  # the landing page's cache follows updated_at
    printing.print_schedule_project(project=project)
    logger.info("project %s: %s version changed by user %s", project.slug, language, by.pk)
    return project


def project_delete(*, project: ChangeProject, by) -> None:
    """Delete a project and everything in it."""
    logger.info("project %s deleted by user %s", project.slug, by.pk)
    project.delete()


def image_store(
    *, project: ChangeProject, processed: ProcessedImage, by, alt_text: str = "", name: str = ""
) -> ProjectImage:
    """Save the variants of an image that went through `lib.images.process_image`."""
    image = ProjectImage(
        project=project,
        original_width=processed.width,
        original_height=processed.height,
        alt_text=alt_text,
        original_name=os.path.basename(name)[:255],
        uploaded_by=by,
    )
    web_bytes = processed.variants["web"][0]
    image.web_width, image.web_height = PILImage.open(io.BytesIO(web_bytes)).size
    for variant, (data, ext) in processed.variants.items():
        getattr(image, variant).save(f"{variant}.{ext}", ContentFile(data), save=False)
    image.save()
    return image


@transaction.atomic
def project_set_image(
    *, project: ChangeProject, slot: str, processed: ProcessedImage, by, alt_text: str = "", name: str = ""
) -> ProjectImage:
    """Store a new logo or hero image and point the project at it."""
    if slot not in ("logo", "hero_image"):
        raise ValueError(slot)
    image = image_store(project=project, processed=processed, by=by, alt_text=alt_text, name=name)
    setattr(project, slot, image)
    project.save(update_fields=[slot, "updated_at"])
    printing.print_schedule_project(project=project)
    return image


@transaction.atomic
def membership_invite(*, project: ChangeProject, email: str, role: str, by) -> Membership:
    """Add a colleague to the project's team by email. Someone without an account gets one, and an
    email that lets them in: a link to set a password, or to sign in with the organisation's account."""
    email = email.strip()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and not user.is_active:
        raise ValidationError(_("The account of %(email)s is switched off.") % {"email": email})
    if user is None:
        username = email.lower()[:150]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("Another account already uses %(email)s as its name.") % {"email": email})
        user = User(username=username, email=email)
        user.set_unusable_password()  # until they set their own through the invitation
        user.save()
        logger.info("user %s created by invitation to project %s", user.pk, project.slug)
    membership, created = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": role, "invited_by": by}
    )
    if not created:
        raise ValidationError(_("%(email)s is already in the team.") % {"email": email})
    task_queue_on_commit(NOTIFY_TASK, "invite", membership.pk, by.pk)
    logger.info("user %s added to project %s as %s by user %s", user.pk, project.slug, role, by.pk)
    return membership


def membership_set_notifications(*, membership: Membership, approvals: bool, questions: bool) -> Membership:
    """A member's own switches for the team's emails."""
    membership.notify_approvals, membership.notify_questions = approvals, questions
    membership.save(update_fields=["notify_approvals", "notify_questions"])
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, by) -> Membership:
    """Change a member's role; a project always keeps at least one owner."""
    if membership.is_owner and role != Membership.Role.OWNER:
        _ensure_another_owner(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by) -> None:
    """Remove someone from the team; the last owner cannot be removed."""
    if membership.is_owner:
        _ensure_another_owner(membership)
    membership.delete()


def _ensure_another_owner(membership: Membership) -> None:
    owners = (
        Membership.objects.select_for_update()
        .filter(project_id=membership.project_id, role=Membership.Role.OWNER)
        .exclude(pk=membership.pk)
    )
    if not owners.exists():
        raise ValidationError(_("A project needs at least one owner."))


def image_set_alt(*, image: ProjectImage, alt_text: str) -> None:
    """Change an image's description without uploading it again."""
    if image.alt_text != alt_text:
        image.alt_text = alt_text
        image.save(update_fields=["alt_text"])


def project_landing_checked(*, project: ChangeProject) -> None:
    """Note that the team has looked at the landing page (the first time only)."""
    ChangeProject.objects.filter(pk=project.pk, landing_checked_at__isnull=True).update(
        landing_checked_at=timezone.now()
    )
