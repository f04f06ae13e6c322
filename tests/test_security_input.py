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
