"""The comprehension question: on the page, one-click (scanner-safe) links in email, per-audience
results in the heatmap, and a "needs attention" item when too many answer wrong."""

import pytest
from django.core import mail
from django.urls import reverse

from audiences.models import Audience
from campaigns.analytics import services as analytics
from campaigns.analytics.selectors import dashboard
from campaigns.delivery.emails import render_campaign_email
from campaigns.landing import services as landing
from campaigns.models import Asset, Channel, Comprehension, ComprehensionResponse, Stage
from campaigns.plan.selectors import plan_coverage
from campaigns.tests.landing_helpers import clean_cache, make_employee, personal_link  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


@pytest.fixture(autouse=True)
def _dates(project):
    project.refresh_from_db()


@pytest.fixture
def question(project, owner):
    return landing.comprehension_save(
        project=project,
        by=owner,
        text="Vad ändras för dig den 1 mars?",
        answer_1="Inget",
        answer_2="Fakturor attesteras i det nya systemet",
        answer_3="Jag byter arbetsplats",
        right_answer=2,
    )


@pytest.fixture
def audience(project):
    return Audience.objects.create(project=project, name="Ekonomi")


@pytest.mark.usefixtures("english_page")
def test_the_question_shows_after_the_story_and_an_answer_is_recorded_once_per_person(client, project, question):
    link = personal_link(project, make_employee())
    page = reverse("landing:personal", args=[link.token])

    html = client.get(page).content.decode()
    assert html.index('id="story"') < html.index('id="understanding"') < html.index('id="meetings"')
    assert "Fakturor attesteras i det nya systemet" in html

    answer = reverse("landing:personal_answer", args=[link.token])
    assert client.post(answer, {"answer": "1"}).status_code == 302
    response = client.post(answer, {"answer": "2"}, follow=True)

    assert "Right!" in response.content.decode()
    row = ComprehensionResponse.objects.get()
    assert (row.answer, row.is_right, row.employee_id) == (2, True, link.employee_id)


@pytest.mark.usefixtures("english_page")
def test_a_wrong_answer_is_told_the_right_one(client, project, question):
    response = client.post(reverse("landing:general_answer", args=[project.slug]), {"answer": "3"}, follow=True)
    assert "the right answer is “Fakturor attesteras i det nya systemet”" in response.content.decode()
    assert ComprehensionResponse.objects.get().employee is None


@pytest.mark.usefixtures("english_page")
@pytest.mark.parametrize("value", ["4", "0", "x", "", "2; DROP TABLE"])
def test_an_answer_that_is_not_one_writes_nothing(client, project, question, value):
    link = personal_link(project, make_employee())
    response = client.post(reverse("landing:personal_answer", args=[link.token]), {"answer": value}, follow=True)
    assert "Choose one of the answers." in response.content.decode()
    assert ComprehensionResponse.objects.count() == 0


def test_without_a_question_the_page_has_none_and_answers_are_refused(client, project):
    link = personal_link(project, make_employee())
    assert 'id="understanding"' not in client.get(reverse("landing:personal", args=[link.token])).content.decode()
    assert client.post(reverse("landing:personal_answer", args=[link.token]), {"answer": "1"}).status_code == 404


@pytest.mark.usefixtures("english_page")
def test_an_email_link_asks_before_it_answers_so_scanners_do_not_answer(client, project, question):
    link = personal_link(project, make_employee())
    url = reverse("landing:personal_answer_link", args=[link.token, 2])

    for _ in range(3):  # a scanner following the link, twice, and a preview
        page = client.get(url)
        assert page.status_code == 200
    assert ComprehensionResponse.objects.count() == 0
    assert "Yes, send my answer" in page.content.decode()

    client.post(url)

    row = ComprehensionResponse.objects.get()
    assert (row.answer, row.source, row.employee_id) == (2, "email", link.employee_id)
    assert client.get(reverse("landing:personal_answer_link", args=[link.token, 4])).status_code == 404


def test_the_answer_page_posts_with_csrf(project, question):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    link = personal_link(project, make_employee())
    assert strict.post(reverse("landing:personal_answer_link", args=[link.token, 2])).status_code == 403
    assert ComprehensionResponse.objects.count() == 0


def test_an_email_can_carry_the_question_as_one_link_per_answer(project, question):
    anna = make_employee()
    email = Asset.objects.create(
        project=project,
        channel=Channel.EMAIL,
        stage=Stage.KNOWLEDGE,
        title="Så funkar det",
        subject="Så funkar det",
        body="<p>Hej!</p>",
        offset_days=-7,
        include_question=True,
    )
    rendered = render_campaign_email(asset=email, employee=anna, landing_url="https://x.se/p/abc/")

    assert 'href="https://x.se/p/abc/answer/2/"' in rendered.html
    assert "Fakturor attesteras i det nya systemet: https://x.se/p/abc/answer/2/" in rendered.text
    email.include_question = False
    assert "answer/2/" not in render_campaign_email(asset=email, employee=anna, landing_url="https://x.se/p/abc/").html
    assert not mail.outbox


def _answers(question, audience, right: int, wrong: int) -> None:
    for i in range(right + wrong):
        ComprehensionResponse.objects.create(
            question=question, answer=2 if i < right else 1, is_right=i < right, audience=audience
        )


@pytest.mark.usefixtures("english")
def test_results_show_per_audience_in_the_knowledge_stage_and_their_own_column(
    client, project, question, audience, viewer
):
    _answers(question, audience, right=3, wrong=3)
    analytics.analytics_refresh(project=project)

    row = dashboard(project=project).audiences[0]

    assert (row.understanding.answers, row.understanding.pct_right) == (6, 50)
    client.force_login(viewer)
    html = client.get(reverse("campaigns:dashboard", args=[project.slug])).content.decode()
    assert "50 % answered the question right" in html and "Answered the question right" in html


def test_results_under_the_anonymity_threshold_are_hidden(project, question, audience):
    _answers(question, audience, right=1, wrong=2)
    analytics.analytics_refresh(project=project)

    row = dashboard(project=project).audiences[0]

    assert row.understanding.answers == 3 and row.understanding.pct_right is None


@pytest.mark.usefixtures("english")
def test_too_many_wrong_answers_become_a_needs_attention_item_with_a_next_step(project, question, audience):
    _answers(question, audience, right=2, wrong=4)  # 67 % wrong, above 30 %
    analytics.analytics_refresh(project=project)

    warnings = [w for w in plan_coverage(project=project)["warnings"] if w.kind == "misunderstood"]

    assert len(warnings) == 1
    assert "67 % of “Ekonomi” answered the comprehension question wrong" in warnings[0].message
    assert "channel=film" in warnings[0].url and "stage=knowledge" in warnings[0].url


def test_few_wrong_answers_need_no_attention(project, question, audience):
    _answers(question, audience, right=5, wrong=1)
    analytics.analytics_refresh(project=project)
    assert not [w for w in plan_coverage(project=project)["warnings"] if w.kind == "misunderstood"]


def test_a_fourth_answer_must_exist_to_be_the_right_one(project, owner):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Comprehension.objects.create(
            project=project, text="?", answer_1="a", answer_2="b", answer_3="c", right_answer=4
        )


def test_an_editor_sets_the_question_and_a_viewer_may_only_read_it(client, project, editor, viewer, outsider):
    url = reverse("campaigns:comprehension", args=[project.slug])
    data = {
        "text": "Vad ändras?",
        "answer_1": "A",
        "answer_2": "B",
        "answer_3": "C",
        "answer_4": "",
        "right_answer": "3",
        "attention_above": "25",
    }
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(viewer)
    assert client.post(url, data).status_code == 403
    client.force_login(editor)
    assert client.post(url, {**data, "right_answer": "4"}).status_code == 400
    assert not Comprehension.objects.exists()

    assert client.post(url, data).status_code == 302

    question = Comprehension.objects.get(project=project)
    assert (question.right_answer, question.attention_above, question.answers()[2]) == (3, 25, (3, "C"))
    client.force_login(viewer)
    assert "Vad ändras?" in client.get(url).content.decode()


# The question in the project's further languages

ENGLISH = {
    "text": "What changes for you on 1 March?",
    "answer_1": "Nothing",
    "answer_2": "Invoices are approved in the new system",
    "answer_3": "I move to another office",
}


def _bilingual(project):
    from campaigns.tests.landing_helpers import bilingual

    return bilingual(project)


def test_the_team_writes_the_question_in_english_and_each_reader_sees_and_answers_it_in_their_own(
    client, owner, project, question
):
    _bilingual(project)
    client.force_login(owner)
    url = reverse("campaigns:question_translate", args=[project.slug, "en"])
    assert client.post(url, ENGLISH).status_code == 302
    question.refresh_from_db()
    assert question.translation_state("en").complete and question.text.startswith("Vad ändras")
    client.logout()

    bob = personal_link(project, make_employee("bob@example.se", language="en"))
    page = client.get(reverse("landing:personal", args=[bob.token])).content.decode()
    assert "Invoices are approved in the new system" in page and "Fakturor attesteras" not in page
    response = client.post(reverse("landing:personal_answer", args=[bob.token]), {"answer": "3"}, follow=True)
    assert "the right answer is “Invoices are approved in the new system”" in response.content.decode()
    confirm = client.get(reverse("landing:personal_answer_link", args=[bob.token, 2])).content.decode()
    assert "Invoices are approved in the new system" in confirm and "Fakturor" not in confirm

    anna = personal_link(project, make_employee())
    page = client.get(reverse("landing:personal", args=[anna.token])).content.decode()
    assert "Fakturor attesteras i det nya systemet" in page and "Invoices are approved" not in page
    assert sorted(ComprehensionResponse.objects.values_list("answer", flat=True)) == [3]  # same numbers, one row


def test_the_email_carries_the_question_in_the_readers_language(project, owner, question):
    _bilingual(project)
    landing.comprehension_translate(question=question, language="en", values=ENGLISH, by=owner)
    email = Asset.objects.create(
        project=project,
        channel=Channel.EMAIL,
        stage=Stage.KNOWLEDGE,
        title="Så funkar det",
        subject="Så funkar det",
        body="<p>Hej!</p>",
        offset_days=-7,
        include_question=True,
    )
    email.set_translation("en", {"subject": "How it works", "body": "<p>Hi!</p>"})
    email.save()
    english = render_campaign_email(
        asset=email, employee=make_employee("bob@example.se", language="en"), landing_url="https://x.se/p/b/"
    )
    swedish = render_campaign_email(asset=email, employee=make_employee(), landing_url="https://x.se/p/a/")

    assert "Invoices are approved in the new system: https://x.se/p/b/answer/2/" in english.text
    assert "Fakturor" not in english.html
    assert "Fakturor attesteras i det nya systemet: https://x.se/p/a/answer/2/" in swedish.text


def test_a_hostile_translation_is_shown_as_text(client, owner, project, question):
    _bilingual(project)
    landing.comprehension_translate(
        question=question,
        language="en",
        values={**ENGLISH, "answer_2": "<script>alert(1)</script>{{ secret }}"},
        by=owner,
    )
    bob = personal_link(project, make_employee("bob@example.se", language="en"))
    page = client.get(reverse("landing:personal", args=[bob.token])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ secret }}" in page


def test_only_editors_write_a_version_and_only_in_a_language_the_project_has(
    client, owner, viewer, make_user, project, question
):
    url = reverse("campaigns:question_translate", args=[project.slug, "en"])
    client.force_login(owner)
    assert client.post(url, ENGLISH).status_code == 404  # English is not one of its languages yet
    _bilingual(project)
    assert client.get(reverse("campaigns:question_translate", args=[project.slug, "fi"])).status_code == 404
    client.force_login(viewer)
    assert client.post(url, ENGLISH).status_code in (403, 404)
    client.force_login(make_user("outsider"))
    assert client.post(url, ENGLISH).status_code == 404
    question.refresh_from_db()
    assert question.translations == {}


def test_the_plan_asks_for_the_question_in_the_language_its_audiences_read(owner, project, question):
    from campaigns.tests.asset_helpers import make_audience, make_email

    make_email(project, owner).audiences.set(
        [make_audience(project, make_employee("bob@example.se", language="en"), name="Ekonomi")]
    )
    _bilingual(project)
    url = reverse("campaigns:question_translate", args=[project.slug, "en"])
    assert any(w.url == url for w in plan_coverage(project=project)["warnings"])

    landing.comprehension_translate(question=question, language="en", values=ENGLISH, by=owner)
    project.refresh_from_db()
    assert not any(w.url == url for w in plan_coverage(project=project)["warnings"])


@pytest.mark.usefixtures("english")
def test_the_question_page_shows_where_each_language_stands(client, owner, project, question):
    _bilingual(project)
    client.force_login(owner)
    page = client.get(reverse("campaigns:comprehension", args=[project.slug])).content.decode()
    assert reverse("campaigns:question_translate", args=[project.slug, "en"]) in page
    assert "4 missing" in page  # the question and its three answers

    landing.comprehension_translate(question=question, language="en", values=ENGLISH, by=owner)
    page = client.get(reverse("campaigns:comprehension", args=[project.slug])).content.decode()
    assert "Up to date" in page and "missing" not in page
