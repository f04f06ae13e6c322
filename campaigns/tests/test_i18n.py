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


def _catalogue_entries(path) -> list[tuple[str, str, bool]]:
    """(msgid, first msgstr, fuzzy) of each entry of a .po file, read without gettext's tools."""
    entries, msgid, msgstr, fuzzy, field = [], None, None, False, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if msgid is not None:
                entries.append((msgid, msgstr or "", fuzzy))
            msgid, msgstr, fuzzy, field = None, None, False, None
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#~"):
            continue  # obsolete
        elif line.startswith("msgid "):
            msgid, field = line[7:-1], "id"
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            msgstr, field = line.split(" ", 1)[1][1:-1], "str"
        elif line.startswith('"') and field == "id":
            msgid += line[1:-1]
        elif line.startswith('"') and field == "str" and msgstr is not None:
            msgstr += line[1:-1]
        elif line.startswith("msgid_plural") or line.startswith("msgstr["):
            field = None
    return [entry for entry in entries if entry[0]]  # the header has an empty msgid


def test_every_string_has_a_swedish_translation():
    entries = _catalogue_entries(SWEDISH_CATALOGUE.with_suffix(".po"))
    assert len(entries) > 500
    missing = [msgid for msgid, msgstr, fuzzy in entries if fuzzy or not msgstr]
    assert missing == [], f"{len(missing)} strings need Swedish (run `make messages`): {missing[:10]}"
