"""The fast composer sends exactly what the renderer renders, and valid MIME."""

import email
import email.policy
import html as html_lib

import pytest
from django.core import mail

from campaigns.delivery import services as delivery
from campaigns.delivery.composer import Composer, build_mime
from campaigns.models import Delivery
from campaigns.tests.delivery_helpers import after_due, make_audience, make_employee, scheduled_email

pytestmark = pytest.mark.django_db

PEOPLE = [
    {"email": "asa@example.se", "first_name": "Åsa", "last_name": "Öberg", "department": "Ekonomi & Lön"},
    {
        "email": "obrien@example.se",
        "first_name": "Seán",
        "last_name": "O'Brien",
        "department": "<IT>",
        "language": "en",
    },
    {"email": "nodept@example.se", "first_name": "Nils", "last_name": "Ek", "department": "", "title": ""},
    {"email": "spaces@example.se", "first_name": "Anna  Maria", "last_name": "Berg", "department": "Lager"},
]


@pytest.fixture
def sent(project, owner, monkeypatch, django_capture_on_commit_callbacks):
    project.refresh_from_db()
    people = [make_employee(**fields) for fields in PEOPLE]
    batches = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(ids))
    FAST.clear()
    _record_fast_path(monkeypatch)
    asset, send = scheduled_email(
        project,
        owner,
        make_audience(project, *people),
        subject="Hej {{ first_name }} på {{ department }}",
        body='<p>Hej {{ full_name }}!</p><p>Du på {{ department }}: läs <a href="https://intranet.example.se/faq">FAQ</a>.</p>',
    )
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=after_due(send))
    for ids in batches:
        delivery.send_batch(delivery_ids=ids)
    return asset, {m.to[0]: m for m in mail.outbox}


FAST = []


def _record_fast_path(monkeypatch):
    """Note the address of every email the composer builds from a shape (the fast path)."""
    from_shape = Composer._from_shape

    def recording(self, shape, delivery, values, landing_url):
        message = from_shape(self, shape, delivery, values, landing_url)
        FAST.append(delivery.employee.email)
        return message

    monkeypatch.setattr(Composer, "_from_shape", recording)


def _slow(asset, address):
    d = Delivery.objects.select_related("employee").get(asset=asset, employee__email=address)
    composer = Composer(delivery._load_asset(asset.pk), delivery._Tracker(delivery._load_asset(asset.pk)))
    composer.fast = False
    return composer.message(d)


@pytest.mark.parametrize("person", PEOPLE, ids=[p["email"] for p in PEOPLE])
def test_what_is_sent_is_what_the_renderer_renders(sent, person):
    asset, outbox = sent
    fast = outbox[person["email"]]
    slow = _slow(asset, person["email"])
    assert fast.subject == slow.subject
    assert fast.body == slow.body
    assert html_lib.unescape(fast.alternatives[0].content) == html_lib.unescape(slow.alternatives[0].content)


def test_plain_names_take_the_fast_path_and_folded_ones_the_renderer(sent):
    asset, outbox = sent
    assert "asa@example.se" in FAST and "nodept@example.se" in FAST
    assert "spaces@example.se" not in FAST
    assert outbox["spaces@example.se"].subject.startswith("Hej Anna Maria på")


def test_the_mime_parses_back_to_the_same_email(sent):
    asset, outbox = sent
    message = outbox["obrien@example.se"]
    row = Delivery.objects.get(employee__email="obrien@example.se")
    parsed = email.message_from_bytes(message.message().as_bytes(linesep="\r\n"), policy=email.policy.default)
    assert parsed["Subject"] == "Hej Seán på <IT>"
    assert parsed["To"] == "obrien@example.se"
    assert parsed["Message-ID"] == row.message_id
    assert parsed["From"].addresses[0].display_name == "Karin Lind"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n") == message.body.replace("\r\n", "\n")
    assert html.replace("\r\n", "\n") == message.alternatives[0].content.replace("\r\n", "\n")
    assert "O&#x27;Brien" in html and "&lt;IT&gt;" in html and "<IT>" not in html
    assert all(len(line) <= 998 for line in message.message().as_bytes(linesep="\r\n").split(b"\r\n"))


def test_a_long_non_ascii_subject_is_encoded_in_short_words():
    raw = build_mime(
        from_header="a@b.se", to="c@d.se", subject="Å" * 120, message_id="<x@y>", text="t", html="<p>h</p>"
    )
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Å" * 120
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))


def test_a_composer_that_disagrees_with_the_renderer_steps_aside(sent, project, owner, monkeypatch):
    asset, outbox = sent
    d = Delivery.objects.select_related("employee").get(asset=asset, employee__email="asa@example.se")
    loaded = delivery._load_asset(asset.pk)
    composer = Composer(loaded, delivery._Tracker(loaded))
    monkeypatch.setattr("campaigns.delivery.composer._same", lambda fast, slow: False)
    FAST.clear()
    message = composer.message(d)
    assert FAST == ["asa@example.se"] and composer.fast is False  # the shape was built, and set aside
    assert message.to == ["asa@example.se"]


def test_personal_landing_links_are_the_ones_landing_url_for_gives(sent):
    from campaigns.delivery.emails import landing_url_for

    asset, outbox = sent
    for address, message in outbox.items():
        row = Delivery.objects.select_related("employee").get(asset=asset, employee__email=address)
        personal = landing_url_for(asset.project, row.employee)
        assert "/p/" in personal
        assert f'href="{personal}"' in message.alternatives[0].content  # not sent through the click redirect
        assert personal in message.body


def test_the_local_outbox_gets_the_same_email(
    project, owner, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    project.refresh_from_db()
    batches = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(ids))
    asset, send = scheduled_email(project, owner, make_audience(project, make_employee(**PEOPLE[0])))
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=after_due(send))
    [result] = [delivery.send_batch(delivery_ids=ids) for ids in batches]

    [written] = list(tmp_path.iterdir())
    parsed = email.message_from_bytes(written.read_bytes().split(b"\n" + b"-" * 79)[0], policy=email.policy.default)
    assert result.sent == 1
    assert parsed["To"] == "asa@example.se" and parsed["Subject"].startswith("Hej Åsa")
    assert "Hej Åsa!" in parsed.get_body(("html",)).get_content()


def test_each_language_is_a_shape_of_its_own_on_the_fast_path(
    project, owner, monkeypatch, django_capture_on_commit_callbacks
):
    project.refresh_from_db()
    project.other_languages = ["en"]
    project.save()
    people = [make_employee(**PEOPLE[0]), make_employee(email="john@example.se", first_name="John", language="en")]
    batches = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(ids))
    FAST.clear()
    _record_fast_path(monkeypatch)
    asset, send = scheduled_email(project, owner, make_audience(project, *people))
    asset.set_translation("en", {"subject": "Hi {{ first_name }}", "body": "<p>Hi {{ first_name }}!</p>"})
    asset.save()
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=after_due(send))
    for ids in batches:
        delivery.send_batch(delivery_ids=ids)

    outbox = {m.to[0]: m for m in mail.outbox}
    assert sorted(FAST) == ["asa@example.se", "john@example.se"]  # neither fell back to the renderer
    assert outbox["john@example.se"].subject == "Hi John"
    for address in outbox:
        slow = _slow(asset, address)
        assert outbox[address].subject == slow.subject and outbox[address].body == slow.body
