"""A brand-new organisation's first launch, clicked through from an empty database (no demo data):
a change manager creates a project with a very light brand colour and no images, imports a small
HR file, makes two audiences, starts the plan from the template, approves an email and a meeting;
an employee reads, books, asks and answers the pulse on the landing page; the manager answers the
question and it appears in the FAQ. axe-core on every page, and on the employee's pages every
control is checked to be readable (contrast computed from the page) and nothing is clipped."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from audiences.imports.tests.import_files import excel_cp1252, person
from audiences.models import Audience, Employee
from campaigns.landing import services as landing
from campaigns.management.commands.seed_demo import CHANGE_MANAGER_PERMISSIONS
from campaigns.models import Asset, Booking, ChangeProject, PulseResponse, Question

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}
PRIMARY = "#ffe066"  # a very light brand colour: any colour must work

PEOPLE = [
    person("NE1", "Åsa", "Öberg", department="Ekonomi", site="Västerås", title="Controller"),
    person("NE2", "Björn", "Sjöberg", department="Ekonomi", site="Örebro", title="Redovisningsekonom"),
    person("NE3", "Cecilia", "Åkesson", department="Ekonomi", site="Västerås", title="Ekonomiassistent"),
    person(
        "NE4", "David", "Lindén", department="Drift och underhåll", site="Västerås", title="Elektriker", language="en"
    ),
    person("NE5", "Elin", "Ström", department="Drift och underhåll", site="Örebro", title="Montör"),
    person("NE6", "Fredrik", "Holm", department="Drift och underhåll", site="Örebro", title="Arbetsledare"),
]

# For each visible control: its text colour against the background it is painted on (the nearest
# ancestors' background colours, composed over white), the WCAG contrast ratio, and the ratio it needs;
# a chosen option's outline against the page; text cut off by overflow; a page that scrolls sideways.
READABILITY = """
() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(parseFloat);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = ({ r, g, b }) => "#" + [r, g, b].map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\\s+/g, " ");
    return `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : ""} “${text.slice(0, 60)}”`;
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || style.display === "none" || Number(style.opacity) === 0) return false;
    if (box.width <= 1 || box.height <= 1) return false;  // visually hidden for screen readers
    if (el.closest("[hidden], [aria-hidden=true], details:not([open]) > :not(summary)")) return false;
    return true;
  };
  const background = (el) => {
    const layers = [];
    const images = [];
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== "none") images.push(describe(node));
      const colour = parse(style.backgroundColor);
      if (colour && colour.a > 0) {
        layers.push(colour);
        if (colour.a >= 1) break;
      }
    }
    let paint = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) paint = over(layer, paint);
    return { paint, images };
  };
  const problems = [];
  const checked = [];
  const nonText = new Set(["checkbox", "radio", "hidden", "range", "color", "file", "image"]);
  for (const el of document.querySelectorAll("a, button, input, label, select, textarea, .button, summary")) {
    if (!shown(el)) continue;
    if (el.tagName === "INPUT" && nonText.has(el.type)) continue;
    const text = (el.innerText || el.value || el.placeholder || "").trim();
    if (!text) continue;
    const style = getComputedStyle(el);
    const { paint, images } = background(el);
    if (images.length) { problems.push(`${describe(el)} stands on a background image (${images[0]}): contrast unknown`); continue; }
    const fg = over(parse(style.color), paint);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    const measured = ratio(fg, paint);
    checked.push(describe(el));
    if (measured < needed) {
      problems.push(`${describe(el)}: ${hex(fg)} on ${hex(paint)} is ${measured.toFixed(2)}:1, needs ${needed}:1`);
    }
  }
  // A chosen option drawn as a box around its label: the box must show against the page (WCAG 1.4.11, 3:1).
  for (const label of document.querySelectorAll("input:checked + label")) {
    if (!shown(label)) continue;
    const style = getComputedStyle(label);
    if (parseFloat(style.borderTopWidth) < 1) continue;
    const around = background(label.parentElement).paint;
    const border = over(parse(style.borderTopColor), around);
    const measured = ratio(border, around);
    checked.push(describe(label));
    if (measured < 3) {
      problems.push(`the chosen ${describe(label)}: its border ${hex(border)} on ${hex(around)} is ${measured.toFixed(2)}:1, needs 3:1`);
    }
  }
  for (const el of document.querySelectorAll("body *")) {
    if (!shown(el) || !(el.innerText || "").trim()) continue;
    const style = getComputedStyle(el);
    if (["hidden", "clip"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${describe(el)} is clipped sideways: ${el.scrollWidth}px of text in ${el.clientWidth}px`);
    }
    if (["hidden", "clip"].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 1) {
      problems.push(`${describe(el)} is clipped at the bottom: ${el.scrollHeight}px of text in ${el.clientHeight}px`);
    }
  }
  const sideways = document.documentElement.scrollWidth - window.innerWidth;
  if (sideways > 0) problems.push(`the page scrolls sideways by ${sideways}px`);
  return { problems, checked: checked.length };
}
"""


@pytest.fixture
def assert_readable(page):
    """Every visible control's text has the contrast WCAG asks for, and no text is cut off or scrolls sideways."""

    def check() -> None:
        result = page.evaluate(READABILITY)
        assert result["checked"] > 0, page.url
        assert not result["problems"], f"{page.url}\n" + "\n".join(result["problems"])

    return check


@pytest.fixture
def change_manager(make_user):
    group, _ = Group.objects.get_or_create(name="Change managers")
    for dotted in CHANGE_MANAGER_PERMISSIONS:
        app_label, codename = dotted.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    user = make_user("maria", first_name="Maria", last_name="Nyström")
    user.groups.add(group)
    return user


@pytest.fixture
def fresh_landing(settings):
    from django.core.cache import cache

    cache.clear()
    landing.local_cache.clear()
    settings.LANDING_RATE_LIMIT = (1000, 600)
    yield
    landing.landing_counters_flush()


def _weekday(day: datetime.date) -> datetime.date:
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


@pytest.mark.parametrize("size", SIZES)
def test_a_first_launch_from_an_empty_organisation(
    page,
    live_server,
    data_migrations,
    change_manager,
    fresh_landing,
    log_in,
    assert_accessible,
    assert_readable,
    screenshot,
    size,
    tmp_path,
):
    assert not Employee.objects.exists() and not ChangeProject.objects.exists()
    page.set_viewport_size(SIZES[size])
    url = live_server.url
    go_live = _weekday(datetime.date.today() + datetime.timedelta(days=70))

    # 1. The project, with a very light brand colour and no images; the overview says where to start.
    log_in("maria")
    assert_accessible()
    page.goto(f"{url}/projects/new/")
    page.get_by_label("Name").fill("Nya tidrapporten")
    page.get_by_label("Lede").fill("Från hösten rapporterar alla sin tid i mobilen. Här är vad det betyder för dig.")
    page.get_by_label("Go-live date").fill(go_live.isoformat())
    page.get_by_label("Primary language").select_option("en")  # written in English first: the English plan template
    page.locator("input[name=primary_color]").fill(PRIMARY)
    assert_accessible()
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/nya-tidrapporten/$"))
    project = ChangeProject.objects.get(slug="nya-tidrapporten")
    assert project.primary_color == PRIMARY and not project.hero_image_id and not project.logo_id
    expect(page.get_by_role("heading", name="Getting started")).to_be_visible()
    assert_accessible()
    slug = project.slug

    # 2. The HR file: Excel's Swedish CSV, six people in two departments at two sites.
    export = tmp_path / "Personal.csv"
    export.write_bytes(excel_cp1252(PEOPLE))
    page.goto(f"{url}/directory/import/new/")
    assert_accessible()
    page.locator("input[type=file]").set_input_files(str(export))
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.get_by_label("Förnamn")).to_have_value("first_name")
    assert_accessible()
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("heading", name="New people")).to_be_visible()
    assert_accessible()
    page.get_by_role("button", name="Apply the import").click()
    expect(page.get_by_text("The import is done.")).to_be_visible()
    assert_accessible()
    assert Employee.objects.count() == len(PEOPLE)

    # Two audiences by rules; the site typed as people type it, without case or accents.
    for name, field, typed in (("Västerås", "site", "vasteras"), ("Ekonomi", "department", "Ekonomi")):
        page.goto(f"{url}/projects/{slug}/audiences/new/")
        page.locator("#id_name").fill(name)
        row = page.locator("[data-rule-row]").first
        row.locator("select[name$='-field']").select_option(field)
        row.locator("textarea[name$='-values']").fill(typed)
        page.get_by_role("button", name="Preview members").click()
        expect(page.locator("[data-live-count]")).to_have_text("3 people")
        assert_accessible()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        assert_accessible()
    vasteras = Audience.objects.get(project=project, name="Västerås")
    assert vasteras.rules["rules"][0]["values"] == ["Västerås"]  # stored as the directory spells it

    # The plan from the template, to both audiences.
    page.goto(f"{url}/projects/{slug}/plan/template/")
    assert_accessible()
    page.get_by_role("link", name=re.compile("Standard internal launch")).click()
    page.get_by_role("checkbox", name="Västerås").check()
    page.get_by_role("checkbox", name="Ekonomi").check()
    assert_accessible()
    page.get_by_role("button", name="Add to the plan").click()
    page.wait_for_url(re.compile(r"/plan/$"))
    expect(page.locator(".alert-success")).to_contain_text("in the plan as drafts")
    assert_accessible()

    # 3. The teaser email: written, made ready, approved by its owner; the send panel offers the send.
    email = Asset.objects.get(project=project, title="Teaser: something is coming")
    page.goto(f"{url}/projects/{slug}/assets/{email.pk}/edit/")
    page.get_by_label("Subject").fill("Snart rapporterar du tid i mobilen")
    page.locator("[contenteditable=true]").first.fill("Hej! Från hösten rapporterar du din tid i mobilen.")
    assert_accessible()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(rf"/assets/{email.pk}/$"))
    page.get_by_role("button", name="Ready for approval").click()
    expect(page.locator(".asset-status-ready")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".asset-status-approved")).to_be_visible()
    panel = page.locator(".send-panel")
    expect(panel.locator("[data-recipients]")).to_contain_text("To 4 people")  # 3 + 3, Åsa and Cecilia once
    expect(panel.get_by_role("button", name="Schedule send")).to_be_visible()
    expect(panel.get_by_role("button", name="Send now")).to_be_visible()
    assert_accessible()

    # 4. The information meeting: a session, made ready and approved; the landing page as employees see it.
    meeting = Asset.objects.get(project=project, title="Information meetings")
    day = _weekday(go_live - datetime.timedelta(days=21))
    page.goto(f"{url}/projects/{slug}/assets/{meeting.pk}/edit/")
    row = page.locator(".session-row").first
    row.locator("input[name$='-starts_at']").fill(f"{day.isoformat()}T10:00")
    row.locator("input[name$='-ends_at']").fill(f"{day.isoformat()}T11:00")
    row.locator("input[name$='-site']").fill("Västerås")
    row.locator("input[name$='-place']").fill("Matsalen, plan 2")
    row.locator("input[name$='-capacity']").fill("12")
    assert_accessible()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(rf"/assets/{meeting.pk}/$"))
    expect(page.get_by_text("Matsalen, plan 2")).to_be_visible()
    page.get_by_role("button", name="Ready for approval").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".asset-status-approved")).to_be_visible()
    assert_accessible()
    page.goto(f"{url}/projects/{slug}/landing-preview/")
    expect(page.locator("h1")).to_have_text(project.lede)
    expect(page.locator("#meetings")).to_contain_text("Matsalen, plan 2")
    assert_accessible()

    # The checklist has ticked itself: brand, audiences, plan, approved email, landing page looked at.
    page.goto(f"{url}/projects/{slug}/")
    checklist = page.locator("section", has=page.locator("#getting-started-title"))
    expect(checklist.locator("s")).to_have_count(5)
    expect(checklist.get_by_role("link", name="Render the first poster or handout")).to_be_visible()
    assert_accessible()

    # 5. An employee: the general link, then their personal link: book, ask, answer the pulse.
    page.context.clear_cookies()
    page.goto(f"{url}/l/{slug}/")
    expect(page.locator("h1")).to_have_text(project.lede)
    expect(page.locator("#meetings")).to_contain_text("Matsalen, plan 2")
    assert_accessible()
    assert_readable()
    screenshot(f"first-launch-general-{size}")

    # Someone without a personal link books from the general link with their work email.
    page.locator("label[for^=session-]").first.click()
    page.get_by_label("Your work email").fill("ne6@norrstrom.se")
    page.get_by_role("button", name="Send me the confirmation link").click()
    expect(page.get_by_text("Check your inbox")).to_be_visible()
    assert_accessible()
    assert_readable()
    pending = Booking.objects.get(employee__email="ne6@norrstrom.se")
    page.goto(f"{url}/b/confirm/{pending.confirm_token}/")  # the link in the email; Fredrik reads Swedish
    expect(page.get_by_role("heading", name="Bekräfta din plats")).to_be_visible()
    assert_accessible()
    assert_readable()
    page.get_by_role("button", name="Ja, boka min plats").click()
    expect(page.get_by_role("heading", name="Din plats är bokad")).to_be_visible()
    assert_accessible()
    assert_readable()
    screenshot(f"first-launch-confirmed-{size}")
    pending.refresh_from_db()
    assert pending.status == Booking.Status.CONFIRMED

    david = Employee.objects.get(email="ne4@norrstrom.se")
    link = landing.landing_token_for(project=project, employee=david)
    page.goto(f"{url}/p/{link.token}/")
    expect(page.get_by_text("Hello David!")).to_be_visible()
    assert_accessible()
    assert_readable()
    screenshot(f"first-launch-personal-{size}")

    page.get_by_role("button", name="Book a seat").first.click()
    expect(page.get_by_text("Your seat is booked.")).to_be_visible()
    expect(page.get_by_text("You have a seat")).to_be_visible()
    expect(page.get_by_text("10 seats left")).to_be_visible()  # Fredrik's and David's seats of twelve
    assert Booking.objects.get(employee=david).status == Booking.Status.CONFIRMED
    assert_accessible()
    assert_readable()
    screenshot(f"first-launch-booked-{size}")

    page.get_by_label("Your question").fill("Behöver jag en ny telefon?")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_text("Your question has reached the project team.")).to_be_visible()
    assert_accessible()
    assert_readable()

    page.locator("label[for=reaction-right]").click()
    for stage, score in (("awareness", 5), ("desire", 4), ("knowledge", 3), ("ability", 3), ("reinforcement", 4)):
        page.locator(f"label[for={stage}-{score}]").click()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Thank you for telling us.")).to_be_visible()
    assert PulseResponse.objects.get().employee == david
    assert_accessible()
    assert_readable()

    # 6. The change manager answers the question and publishes it; it is in the FAQ.
    log_in("maria")
    page.goto(f"{url}/projects/{slug}/questions/")
    assert_accessible()
    card = page.locator("article", has_text="Behöver jag en ny telefon?")
    card.locator("[contenteditable=true]").fill("Nej, appen fungerar i telefonen du redan har.")
    card.get_by_label("Publish on the landing page's FAQ").check()
    card.get_by_role("button", name="Save the answer").click()
    expect(page.get_by_text("Answer saved and published on the landing page.")).to_be_visible()
    assert_accessible()
    assert Question.objects.get().is_published

    page.goto(f"{url}/l/{slug}/")
    question = page.locator("details.faq-item", has_text="Behöver jag en ny telefon?")
    expect(question.locator("summary")).to_have_text("Behöver jag en ny telefon?")
    expect(question.get_by_text("Nej, appen fungerar i telefonen du redan har.")).to_be_visible()
    assert_accessible()
    assert_readable()
    screenshot(f"first-launch-faq-{size}")
