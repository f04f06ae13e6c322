"""Threat: a forged value in a URL or a form reaches a computation and answers with a 500.

Every value typed by hand (an id, a colour) is validated before it is used: the answer is the
page without it, a form error or a plain 404, never a server error.
"""

import pytest

from campaigns.tests.asset_helpers import make_email

pytestmark = pytest.mark.django_db

FORGED_IDS = ["²", "١٢", "9" * 40, "-1", "1.5", "1e3", "0x10", " 1", "%00"]


@pytest.mark.parametrize("forged", FORGED_IDS)
def test_forged_ids_in_urls_are_ignored_or_not_found(client, project, owner, forged):
    email = make_email(project, owner)
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client.force_login(owner)
    for path, expected in (
        (f"/projects/{project.slug}/assets/{email.pk}/preview/?employee={forged}", {200}),
        (f"/projects/{project.slug}/assets/{email.pk}/preview/email.html?employee={forged}", {200}),
        (f"/projects/{project.slug}/assets/new/?channel=email&audience={forged}", {200}),
        (f"/projects/{project.slug}/plan/template/?template={forged}", {404}),
        (f"/projects/{project.slug}/landing-preview/?audience={forged}", {200}),
        (f"/admin/campaigns/question/?project={forged}", {200}),
    ):
        assert client.get(path).status_code in expected, path


# Threat: the product's own address sends people elsewhere (open redirects).

EVIL = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil.example", "javascript:alert(1)"]


@pytest.mark.parametrize("target", EVIL)
def test_the_login_and_the_language_switcher_do_not_redirect_off_site(client, owner, target):
    response = client.post(f"/accounts/login/?next={target}", {"username": owner.username, "password": "x" * 12})
    assert response.status_code == 200  # wrong password: the form again, no redirect at all
    owner.set_password("correct horse battery")
    owner.save()
    response = client.post(
        "/accounts/login/", {"username": owner.username, "password": "correct horse battery", "next": target}
    )
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    assert not response["Location"].startswith("javascript:")
    response = client.post("/i18n/setlang/", {"language": "en", "next": target})
    assert response.status_code == 302 and "evil.example" not in response["Location"]


def test_a_tracked_click_goes_only_to_a_link_of_its_own_email(client, project, owner):
    from audiences.models import Employee
    from campaigns.models import Delivery, TrackedLink

    email = make_email(project, owner)
    other = make_email(project, owner, title="Annat mejl")
    anna = Employee.objects.create(email="anna@example.se", first_name="Anna")
    delivery = Delivery.objects.create(asset=email, employee=anna, message_id="<a@x>")
    theirs = TrackedLink.objects.create(asset=other, url="https://evil.example/")
    assert client.get(f"/t/c/{delivery.token}/{theirs.pk}/").status_code == 404


# Threat: a NUL byte in a URL reaches PostgreSQL, which refuses it in text (a server error).


def test_nul_bytes_in_public_urls_are_a_plain_404(client, project):
    for path in (
        "/p/%00/",
        "/p/abc%00def/",
        "/b/confirm/%00/",
        "/b/cancel/%00/",
        "/t/o/%00.gif",
        "/t/c/%00/1/",
        "/l/nytt-ekonomisystem/play/1/",
        "/projects/print/file/%00/",
    ):
        response = client.get(path) if "play" not in path else client.post(path)
        assert response.status_code == 404, path
    response = client.get(f"/l/{project.slug}/?src=%00")  # a QR scan source: ignored, and on to the page
    assert response.status_code == 302
