"""Small builders shared by the asset, merge and email tests."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from audiences.models import Audience, Employee
from campaigns.models import Asset, MeetingSession
from campaigns.plan import services as plan
from campaigns.projects import services
from lib.images import process_image


def png_upload(name: str = "hero.png", size: tuple[int, int] = (1200, 600)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (31, 78, 121)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def make_image(project, by, alt: str = "Colleagues around a screen"):
    upload = png_upload()
    return services.image_store(project=project, processed=process_image(upload), by=by, alt_text=alt, name=upload.name)


def make_employee(email: str = "anna.berg@example.se", **fields) -> Employee:
    defaults = {
        "first_name": "Anna",
        "last_name": "Berg",
        "department": "Ekonomi",
        "site": "Luleå",
        "title": "Controller",
        "language": "sv",
    }
    defaults.update(fields)
    return Employee.objects.create(email=email, **defaults)


def make_audience(project, *members: Employee, name: str = "Ekonomi") -> Audience:
    audience = Audience.objects.create(project=project, name=name, kind=Audience.Kind.LIST)
    audience.members.add(*members)
    return audience


def make_email(project, by, **fields) -> Asset:
    values = {
        "channel": "email",
        "stage": "awareness",
        "title": "Sponsorns varför-mejl",
        "offset_days": -28,
        "subject": "Hej {{ first_name }}, därför byter vi system",
        "preheader": "{{ days_to_go_live }} dagar kvar till driftstart",
        "body": "<p>Hej {{ first_name }}!</p><p>Den {{ go_live }} byter vi ekonomisystem.</p>",
        "button_label": "Läs mer",
        "sender_kind": "sponsor",
    }
    values.update(fields)
    return plan.asset_create(project=project, by=by, **values)


def make_meeting(project, by, **fields) -> Asset:
    meeting = plan.asset_create(
        project=project,
        by=by,
        channel="meeting",
        stage="knowledge",
        title="Informationsträff",
        offset_days=-14,
        headline="Informationsträff om nya ekonomisystemet",
        **fields,
    )
    starts = timezone.make_aware(datetime.datetime(2027, 2, 15, 9, 0))
    MeetingSession.objects.create(
        meeting=meeting,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1),
        site="Luleå",
        place="Aulan, Storgatan 1",
        capacity=40,
    )
    return meeting
