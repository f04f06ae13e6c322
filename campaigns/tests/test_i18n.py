from pathlib import Path

from django.conf import settings
from django.urls import reverse

SWEDISH_CATALOGUE = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.mo"


def _switch(client, language: str, next_url: str):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_the_switcher_is_on_every_page(client, owner):
    client.force_login(owner)
    content = client.get(reverse("campaigns:project_list")).content.decode()
    assert f'action="{reverse("set_language")}"' in content
    assert 'value="sv"' in content and 'value="en"' in content


def test_it_switches_to_english_and_back_to_swedish(client, owner):
    client.force_login(owner)
    page = reverse("campaigns:project_list")

    response = _switch(client, "en", page)
    assert response.status_code == 302
    assert response["Location"] == page
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    content = client.get(page).content.decode()
    assert '<html lang="en">' in content
    assert "Your change projects" in content

    response = _switch(client, "sv", page)
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "sv"
    content = client.get(page).content.decode()
    assert '<html lang="sv">' in content
    assert "Your change projects" not in content


def test_swedish_is_the_default(client):
    assert '<html lang="sv">' in client.get(reverse("login")).content.decode()


def test_the_browser_language_is_honoured(client):
    response = client.get(reverse("login"), headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in response.content.decode()


def test_it_refuses_a_language_it_does_not_ship(client):
    _switch(client, "de", reverse("login"))
    assert '<html lang="sv">' in client.get(reverse("login")).content.decode()


def test_it_does_not_redirect_off_site(client):
    response = _switch(client, "en", "https://evil.example/")
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_the_swedish_catalogue_is_compiled_and_committed():
    assert SWEDISH_CATALOGUE.exists(), "run `make messages` and commit locale/sv/LC_MESSAGES/django.mo"


def test_the_login_page_speaks_swedish(client):
    content = client.get(reverse("login")).content.decode()
    assert '<html lang="sv">' in content
    assert "Log in" not in content


def test_every_string_of_the_foundation_screens_is_translated():
    from django.utils import translation

    with translation.override("sv"):
        for english in ("Your change projects", "New change project", "Log in to Launchpad", "Invite a teammate"):
            assert translation.gettext(english) != english, english


def test_dates_are_written_as_each_language_writes_them(client, owner, project):
    import datetime

    from django.utils import translation
    from django.utils.formats import date_format

    project.go_live = datetime.date(2027, 3, 1)
    project.save()
    client.force_login(owner)
    with translation.override("sv"):
        assert date_format(project.go_live, translation.gettext("j M Y")) == "1 mar 2027"
    with translation.override("en"):
        assert date_format(project.go_live, translation.gettext("j M Y")) == "1 Mar 2027"
    swedish = client.get(reverse("campaigns:project_list"), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    english = client.get(reverse("campaigns:project_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 mar 2027" in swedish and "1 Mar 2027" not in swedish
    assert "1 Mar 2027" in english
