"""Load the demo organisation and its launch. Running it twice changes nothing."""

import io
import math
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from PIL import Image, ImageDraw

from audiences import demo
from audiences.models import Audience, Employee
from campaigns.models import ChangeProject, Membership, ReplyTo, SenderKind
from campaigns.projects import services
from lib.days_off import day_off
from lib.images import process_image

User = get_user_model()

DEMO_SLUG = "atlas"
CHANGE_MANAGER_PERMISSIONS = [
    "audiences.view_employee",
    "audiences.add_employee",
    "audiences.change_employee",
    "audiences.view_directoryimport",
    "audiences.add_directoryimport",
    "audiences.view_audience",
    "audiences.add_audience",
    "audiences.change_audience",
    "audiences.delete_audience",
    "campaigns.view_changeproject",
    "campaigns.change_changeproject",
    "campaigns.view_membership",
    "campaigns.view_projectimage",
    "campaigns.view_asset",
    "campaigns.view_plantemplate",
    "campaigns.view_question",
    "campaigns.change_question",
    "campaigns.view_booking",
    "campaigns.change_booking",
    "campaigns.view_pulseresponse",
    "campaigns.view_landingcounter",
    "campaigns.view_engagementcounter",
    "campaigns.view_delivery",
    "campaigns.view_emailsend",
    "campaigns.view_printrender",
]

WHY = (
    "<p>Våra tre ekonomi- och inköpssystem är över femton år gamla. Leverantören slutar stödja dem nästa år, "
    "och i dag tar en enkel beställning i genomsnitt <strong>fyra dagar</strong> från behov till order.</p>"
    "<p>Med Atlas samlar vi inköp, fakturor och uppföljning på ett ställe. Det frigör tid för kundnära arbete "
    "och ger oss säkrare siffror.</p>"
)
WHAT = (
    "<ul><li>Beställningar, attest och fakturor görs i Atlas, i webbläsaren eller mobilen.</li>"
    "<li>Pappersblanketten för inköp försvinner.</li>"
    "<li>Du ser status på dina beställningar direkt.</li></ul>"
)
HOW = (
    "<p>Beställer du material eller attesterar fakturor börjar du använda Atlas den dag vi går live. "
    "Alla andra får en enklare vardag: färre påminnelser och snabbare leveranser.</p>"
    "<p>Du får en kort utbildning på din ort innan dess, och support på plats första veckan.</p>"
)


# The story in English, for the colleagues who read English (Atlas is written in Swedish first).
STORY_EN = {
    "why": (
        "<p>Our three finance and purchasing systems are more than fifteen years old. The supplier stops "
        "supporting them next year, and today a simple order takes <strong>four days</strong> on average "
        "from need to purchase order.</p><p>Atlas brings purchasing, invoices and follow-up into one place. "
        "That frees time for work with customers and gives us more reliable figures.</p>"
    ),
    "what_changes": (
        "<ul><li>Orders, approvals and invoices are done in Atlas, in the browser or on your phone.</li>"
        "<li>The paper purchase form goes away.</li><li>You see the status of your orders at once.</li></ul>"
    ),
    "how_it_affects_me": (
        "<p>If you order materials or approve invoices, you start using Atlas on the day we go live. "
        "Everyone else gets a simpler everyday: fewer reminders and faster deliveries.</p>"
        "<p>You get a short training at your site before then, and support on site the first week.</p>"
    ),
    "sponsor_title": "Chief Financial Officer",
}

PRINT_HEADLINES = {
    "Affisch för lunchrum och verkstad": "Snart blir det enklare att beställa",
    "Informationsblad: vad ändras för mig": "Atlas – det här ändras för dig",
}


# The inbox's grey line after the subject, for the plan template's emails.
PREHEADERS = {
    "Teaser: något nytt är på väg": "En första glimt av Atlas – och varför vi byter.",
    "Sponsorns varför": "Karin Åström om vad bytet betyder för oss, och vad som inte ändras.",
    "Driftstart: så kommer du igång": "Logga in, hitta dina beställningar och få hjälp – på fem minuter.",
    "Pulsmätning": "Fem påståenden, en minut: säg hur redo du känner dig.",
    "Ni frågade, vi svarar": "Svaren på era vanligaste frågor, och hur en kollega kom igång.",
}

PREHEADERS_EN = {
    "Teaser: något nytt är på väg": "A first look at Atlas – and why we are changing.",
    "Sponsorns varför": "Karin Åström on what the change means for us, and what stays the same.",
    "Driftstart: så kommer du igång": "Sign in, find your orders and get help – in five minutes.",
    "Pulsmätning": "Five statements, one minute: tell us how ready you feel.",
    "Ni frågade, vi svarar": "The answers to your most common questions, and how a colleague got started.",
}
PRINT_HEADLINES_EN = {
    "Affisch för lunchrum och verkstad": "Ordering is about to get easier",
    "Informationsblad: vad ändras för mig": "Atlas – what changes for you",
}
PLACES_EN = {
    "Verkstadens lunchrum, hall B": "The workshop's lunch room, hall B",
    "Lagrets fikarum": "The warehouse coffee room",
    "Konferensrum Hjälmaren": "Conference room Hjälmaren",
    "Stora mötesrummet, Kungsgatan 7": "The large meeting room, Kungsgatan 7",
    "Kafeterian": "The cafeteria",
    "Konferensrum Mälaren, Kopparbergsvägen 10": "Conference room Mälaren, Kopparbergsvägen 10",
    "Aulan, Sveavägen 44": "The auditorium, Sveavägen 44",
}

FLEX_PREHEADERS = {
    "Flex kommer: tidrapporten blir digital": "Inga fler papperslappar: så rapporterar du tid från mobilen.",
    "Nu rapporterar du tid i Flex": "Tre steg i mobilen, och vem du frågar om något krånglar.",
    "Påminnelse: lämna veckans tidrapport i Flex": "Senast fredag kl. 12 – det tar två minuter.",
}


def _weekday(day):
    """`day`, or the next working day when it falls on a weekend or a public holiday (the demo's
    meetings once fell on 24 and 25 December): offices meet and launch on workdays."""
    while day_off(day):
        day += timedelta(days=1)
    return day


def _png(draw_fn, size: tuple[int, int]) -> io.BytesIO:
    image = Image.new("RGB", size, "#13294b")
    draw_fn(ImageDraw.Draw(image), size)
    out = io.BytesIO()
    image.save(out, "PNG")
    out.seek(0)
    out.name = "demo.png"
    return out


def _draw_hero(draw: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
    w, h = size
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=(int(19 + 20 * t), int(41 + 60 * t), int(75 + 70 * t)))
    for i in range(9):
        r = 80 + 40 * i
        cx, cy = int(w * 0.78), int(h * 0.55)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(242, 177, 52), width=3)
    for i in range(40):
        x = int(w * 0.05 + i * w * 0.018)
        bar = int(h * 0.15 + (h * 0.35) * (0.5 + 0.5 * math.sin(i / 3)))
        draw.rectangle([x, h - bar, x + int(w * 0.012), h], fill=(255, 255, 255))


def _draw_logo(draw: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
    w, h = size
    draw.rectangle([0, 0, w, h], fill=(19, 41, 75))
    draw.polygon([(w * 0.2, h * 0.8), (w * 0.5, h * 0.15), (w * 0.8, h * 0.8)], fill=(242, 177, 52))


class Command(BaseCommand):
    help = "Load the demo organisation (Norrström Energi AB) and its launch of the Atlas system. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=int, default=340)

    @transaction.atomic
    def handle(self, *args, employees: int, **options):
        group, _ = Group.objects.get_or_create(name="Change managers")
        perms = []
        for dotted in CHANGE_MANAGER_PERMISSIONS:
            app_label, codename = dotted.split(".")
            perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)

        self._user("admin", "launchpad-admin", "Admin", "Launchpad", superuser=True)
        manager = self._user("demo", "launchpad-demo", "Sara", "Lindqvist", group=group)
        editor = self._user("anna", "launchpad-demo", "Anna", "Berg", group=group)
        sponsor = self._user("karin", "launchpad-demo", "Karin", "Åström")

        self._employees(employees)
        project = self._project(manager, editor, sponsor)
        self._audiences(project, manager)
        self._plan(project, manager)
        self._sends(project, manager)
        self._landing(project, manager)
        self._print(project, manager)
        self._second_project(project, editor)
        self._dashboard(project, manager)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {demo.ORGANISATION}, project “{project.name}”. "
                f"Log in as demo / launchpad-demo (admin / launchpad-admin for the admin)."
            )
        )

    def _user(self, username, password, first, last, *, superuser=False, group=None):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@{demo.EMAIL_DOMAIN}",
                "first_name": first,
                "last_name": last,
                "is_staff": True,
                "is_superuser": superuser,
            },
        )
        if created:
            user.set_password(password)
            user.save()
        if group:
            user.groups.add(group)
        return user

    def _employees(self, count: int) -> None:
        # Through the real import path, from the file Swedish Excel would save: UTF-8 with a BOM, semicolons.
        import csv

        from audiences.imports import directory_import_run

        text = io.StringIO()
        writer = csv.DictWriter(text, demo.HEADERS, delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(demo.demo_employee_rows(count))
        result = directory_import_run(source=text.getvalue().encode("utf-8-sig"))
        self.stdout.write(f"Employees: {result.summary_line()}")

    def _project(self, manager, editor, sponsor) -> ChangeProject:
        project = ChangeProject.objects.filter(slug=DEMO_SLUG).first()
        if project is None:
            go_live = _weekday(timezone.localdate() + timedelta(days=42))
            with translation.override("sv"):
                day_month = date_format(go_live, "j F")
            project = services.project_create(
                by=manager,
                slug=DEMO_SLUG,
                name="Atlas – vårt nya affärssystem",
                lede=(
                    f"Den {day_month} byter vi till Atlas, ett gemensamt system för inköp och fakturor. "
                    "Det gör din vardag enklare – och här får du veta hur."
                ),
                why=WHY,
                what_changes=WHAT,
                how_it_affects_me=HOW,
                sponsor_name="Karin Åström",
                sponsor_title="Ekonomichef",
                function_mailbox=f"atlas@{demo.EMAIL_DOMAIN}",
                go_live=go_live,
                status=ChangeProject.Status.LAUNCHING,
                tracking_mode=ChangeProject.TrackingMode.ANONYMOUS,
                primary_color="#13294b",
                accent_color="#b5451b",
                language="sv",
                other_languages=["en"],
            )
            with translation.override("en"):
                day_month_en = date_format(go_live, "j F")
            project.set_translation(
                "en",
                {
                    "lede": f"On {day_month_en} we move to Atlas, one system for purchasing and invoices. "
                    "It makes your everyday simpler – and here is how.",
                    **STORY_EN,
                },
            )
            project.save(update_fields=["translations"])
            Membership.objects.create(project=project, user=editor, role=Membership.Role.EDITOR, invited_by=manager)
            Membership.objects.create(project=project, user=sponsor, role=Membership.Role.VIEWER, invited_by=manager)
        if project.hero_image_id is None:
            services.project_set_image(
                project=project,
                slot="hero_image",
                processed=process_image(_png(_draw_hero, (1800, 900))),
                by=manager,
                alt_text="Abstrakt bild av stapeldiagram under en gul sol",
                name="atlas-hero.png",
            )
        if project.logo_id is None:
            services.project_set_image(
                project=project,
                slot="logo",
                processed=process_image(_png(_draw_logo, (240, 240))),
                by=manager,
                alt_text="Norrström Energi",
                name="norrstrom-logo.png",
            )
        return project

    def _audiences(self, project: ChangeProject, by) -> None:
        definitions = [
            ("Alla medarbetare", "Alla i medarbetarregistret", {"combine": "and", "rules": []}),
            (
                "Beställare och attestanter",
                "De som beställer och attesterar fakturor varje vecka",
                {
                    "combine": "or",
                    "rules": [
                        {"field": "department", "op": "in", "values": ["Inköp", "Ekonomi"]},
                        {"field": "title", "op": "contains", "values": ["Arbetsledare", "chef"]},
                    ],
                },
            ),
            (
                "Drift och lager i Västerås",
                "Verkstadsgolvet och lagret, som sällan läser mejl",
                {
                    "combine": "and",
                    "rules": [
                        {"field": "department", "op": "in", "values": ["Drift och underhåll", "Lager och logistik"]},
                        {"field": "site", "op": "in", "values": ["Västerås"]},
                    ],
                },
            ),
            (
                "Kundservice",
                "",
                {"combine": "and", "rules": [{"field": "department", "op": "in", "values": ["Kundservice"]}]},
            ),
        ]
        for name, description, rules in definitions:
            Audience.objects.get_or_create(
                project=project,
                name=name,
                defaults={"description": description, "kind": Audience.Kind.RULES, "rules": rules, "created_by": by},
            )
        if not Audience.objects.filter(project=project, name="Referensgrupp Atlas").exists():
            from audiences.services import audience_create, cross_functional_proposal

            departments = ["Ekonomi", "Inköp", "Drift och underhåll", "Kundservice", "Lager och logistik", "IT"]
            audience_create(
                project=project,
                by=by,
                name="Referensgrupp Atlas",
                description="En referensgrupp från de avdelningar som använder Atlas varje dag",
                kind=Audience.Kind.LIST,
                is_cross_functional=True,
                members=cross_functional_proposal(size=12, departments=departments, seed=2026),
            )

    def _plan(self, project: ChangeProject, by) -> None:
        """The Swedish standard template, aimed at the demo audiences, some of it approved, meetings booked."""
        if project.assets.exists():
            return
        from campaigns.models import Asset, MeetingSession, PlanTemplate
        from campaigns.plan import services as plan

        audiences = {audience.name: audience for audience in project.audiences.all()}
        everyone = [audiences["Alla medarbetare"]]
        buyers = audiences["Beställare och attestanter"]
        floor = audiences["Drift och lager i Västerås"]
        # template item title -> the audiences it goes to
        targets = {
            "Workshop med tvärgruppen": [audiences["Referensgrupp Atlas"]],
            "Teaser: något nytt är på väg": everyone,
            "Affisch för lunchrum och verkstad": [floor, audiences["Kundservice"]],
            "Sponsorns varför": everyone,
            "Informationsträffar": [floor, buyers],
            "Informationsblad: vad ändras för mig": [floor, buyers],
            "Nyhet: planen och datumen": everyone,
            "Film: så fungerar det": [buyers],
            "Driftstart: så kommer du igång": everyone,
            "Pulsmätning": everyone,
            "Ni frågade, vi svarar": everyone,
        }
        template = PlanTemplate.objects.filter(slug="standard-internlansering").first()
        if template is None:  # an admin removed it; the demo still loads, without a plan
            self.stdout.write(self.style.WARNING("No plan template “standard-internlansering”: the demo has no plan."))
            return
        assets = {}
        for item in template.items.all():
            (asset,) = plan.plan_apply_template(
                project=project, template=template, items=[item], by=by, audiences=targets.get(item.title, everyone)
            )
            assets[item.title] = asset
        for title, preheader in PREHEADERS.items():
            if title in assets:
                # Questions after the sponsor's why and the answers go to the team's shared mailbox.
                reply_to = ReplyTo.MAILBOX if assets[title].sender_kind == SenderKind.SPONSOR else ReplyTo.SENDER
                Asset.objects.filter(pk=assets[title].pk).update(preheader=preheader, reply_to=reply_to)
        # The English versions came with the template (its English sibling); the grey lines are the demo's own.
        for title, asset in assets.items():
            asset.refresh_from_db()
            if title in PREHEADERS_EN:
                asset.set_translation("en", {"preheader": PREHEADERS_EN[title]})
                asset.save(update_fields=["translations"])
        plan.asset_create(
            project=project,
            by=by,
            audiences=[buyers],
            channel="email",
            stage="desire",
            title="Chefspaket: prata Atlas med ditt team",
            offset_days=-3,
            subject="Så pratar du om Atlas med ditt team",
            preheader="Tre bilder och fem frågor till veckomötet – klart att använda.",
            body="<p>Hej {{ first_name }}!</p><p>Här är tre bilder och fem frågor att ta upp på veckomötet.</p>",
            button_label="Öppna chefspaketet",
        )

        workshop, meetings = assets["Workshop med tvärgruppen"], assets["Informationsträffar"]

        def session(meeting: Asset, offset_days: int, hour: int, minute: int, **fields) -> None:
            day = _weekday(project.go_live + timedelta(days=offset_days))
            starts = timezone.make_aware(datetime.combine(day, time(hour, minute)))
            made = MeetingSession(meeting=meeting, starts_at=starts, ends_at=starts + timedelta(hours=1), **fields)
            if fields.get("place") in PLACES_EN:
                made.set_translation("en", {"place": PLACES_EN[fields["place"]]})
            made.save()

        session(workshop, -42, 13, 0, site="Västerås", place="Konferensrum Mälaren, Kopparbergsvägen 10", capacity=14)
        session(meetings, -21, 6, 45, site="Västerås", place="Verkstadens lunchrum, hall B", capacity=60)
        session(meetings, -20, 14, 30, site="Västerås", place="Lagrets fikarum", capacity=40)
        session(meetings, -19, 9, 0, site="Stockholm", place="Aulan, Sveavägen 44", capacity=80)
        session(meetings, -18, 10, 0, site="Eskilstuna", place="Konferensrum Hjälmaren", capacity=30)
        session(meetings, -17, 13, 0, site="Uppsala", place="Stora mötesrummet, Kungsgatan 7", capacity=30)
        session(meetings, -16, 15, 0, site="Örebro", place="Kafeterian", capacity=25)
        session(meetings, -14, 12, 0, online_url="https://teams.microsoft.com/l/meetup-join/atlas-demo", capacity=300)

        for title, steps in (
            ("Workshop med tvärgruppen", ["ready", "approved", "scheduled"]),
            ("Teaser: något nytt är på väg", ["ready", "approved"]),
            ("Affisch för lunchrum och verkstad", ["ready", "approved"]),
            ("Informationsträffar", ["ready", "approved", "scheduled"]),
            ("Sponsorns varför", ["ready", "approved"]),
        ):
            for status in steps:
                plan.asset_set_status(asset=assets[title], status=status, by=by)

    def _print(self, project: ChangeProject, by) -> None:
        """The poster and the handout as PDFs (a second or two); unchanged ones are kept on a second run."""
        from campaigns.models import Asset
        from campaigns.printing import services as printing

        # The plan template titles its assets for the plan; print needs words written for the wall.
        for title, headline in PRINT_HEADLINES.items():
            Asset.objects.filter(project=project, title=title, headline__in=("", title)).update(headline=headline)
            for asset in Asset.objects.filter(project=project, title=title):
                asset.set_translation(
                    "en", {"headline": PRINT_HEADLINES_EN[title]}
                )  # made from the headline as it is now
                asset.save(update_fields=["translations"])
        # The poster advertises the information meetings: one version per site, with that site's sessions.
        meetings = Asset.objects.filter(project=project, title="Informationsträffar", channel="meeting").first()
        Asset.objects.filter(project=project, channel="poster", meeting=None).update(meeting=meetings)
        for render in printing.print_request_project(project=project, enqueue=False):
            printing.print_render(render=render)

    def _sends(self, project: ChangeProject, by) -> None:
        """The teaser goes out when the demo starts: the beat and worker of `make run` send it into
        var/outbox within a minute, and its progress bar fills. The go-live email waits for go-live,
        at its time of day in each recipient's own time zone (Helsinki first, London last)."""
        from campaigns.delivery import services as delivery
        from campaigns.models import Asset, EmailSend
        from campaigns.plan import services as plan

        for title in ("Teaser: något nytt är på väg", "Driftstart: så kommer du igång"):
            asset = project.assets.filter(title=title, channel="email").first()
            if asset is None or EmailSend.objects.filter(asset=asset).exists():
                continue
            if title.startswith("Teaser"):
                asset = plan.asset_update(asset=asset, by=by, fixed_at=timezone.now().replace(second=0, microsecond=0))
            for status in (Asset.Status.READY, Asset.Status.APPROVED):
                if status in plan.TRANSITIONS[asset.status]:
                    asset = plan.asset_set_status(asset=asset, status=status, by=by)
            delivery.email_schedule(asset=asset, by=by, local_time=title.startswith("Driftstart"))

    def _landing(self, project: ChangeProject, by) -> None:
        """Questions answered on the landing page's FAQ, and pulse answers from a sample of employees."""
        from audiences.selectors import reachable_employees
        from campaigns.landing import services as landing
        from campaigns.models import Question

        for text, name, answer in LANDING_QUESTIONS:
            question, created = Question.objects.get_or_create(project=project, text=text, defaults={"name": name})
            if created or not question.is_published:
                landing.question_answer(question=question, answer=answer, publish=True, by=by)
        Question.objects.get_or_create(
            project=project, text="Kommer vi att kunna attestera fakturor i mobilen från första dagen?"
        )
        # Deterministic answers, so a second run updates the same rows and changes nothing.
        employees = list(reachable_employees().order_by("id")[:120])
        aud = project.audiences.filter(name="Alla medarbetare").first()
        for i, employee in enumerate(employees):
            base = 2 + (i * 7) % 4
            landing.pulse_submit(
                project=project,
                reaction=("right", "right", "partly", "wrong")[i % 4],
                scores={
                    "awareness": min(5, base + 1),
                    "desire": min(5, base),
                    "knowledge": max(1, base - 1),
                    "ability": max(1, base - (i % 3)),
                    "reinforcement": None if i % 5 == 0 else max(1, base - 1),
                },
                employee=employee,
                audience_id=aud.pk if aud else None,
            )
        self.stdout.write(
            f"Landing page: {Question.objects.filter(project=project).count()} questions, "
            f"{len(employees)} pulse answers"
        )

    def _second_project(self, atlas: ChangeProject, owner) -> None:
        """A second, smaller launch (new time reporting for the workshop floor and the warehouse) whose
        go-live week is Atlas's handout week, so the organisation's change load shows one department
        hit far too often that week. Anna owns it; the demo user is not a member and sees it only counted."""
        from campaigns.plan import services as plan

        if ChangeProject.objects.filter(slug=SECOND_SLUG).exists():
            return
        # The Tuesday of the week Atlas hands out its leaflet (T−14), whatever weekday Atlas goes live on.
        atlas_handout = atlas.go_live - timedelta(days=14)
        go_live = atlas_handout - timedelta(days=atlas_handout.weekday()) + timedelta(days=1)
        project = services.project_create(
            by=owner,
            slug=SECOND_SLUG,
            name="Flex – ny tidrapportering",
            lede="Från och med nu rapporterar du tid och frånvaro i Flex, i mobilen eller vid terminalen. "
            "Pappersrapporten och Excel-listan försvinner.",
            why="<p>Dagens tidrapporter på papper skrivs in för hand av löneadministrationen varje månad.</p>",
            sponsor_name="Per Holm",
            sponsor_title="Driftchef",
            go_live=go_live,
            status=ChangeProject.Status.PLANNING,
            tracking_mode=ChangeProject.TrackingMode.AGGREGATE,
            primary_color="#1d5c4d",
            accent_color="#9a3412",
        )

        def department(name: str) -> Audience:
            rules = {"combine": "and", "rules": [{"field": "department", "op": "in", "values": [name]}]}
            return Audience.objects.create(
                project=project, name=name, kind=Audience.Kind.RULES, rules=rules, created_by=owner
            )

        drift, lager = department("Drift och underhåll"), department("Lager och logistik")
        for channel, stage, offset, title, audiences in (
            ("email", "awareness", -14, "Flex kommer: tidrapporten blir digital", [drift, lager]),
            ("meeting", "knowledge", -7, "Visning av Flex på arbetsplatsträffen", [drift]),
            ("email", "ability", 0, "Nu rapporterar du tid i Flex", [drift, lager]),
            ("news", "ability", 0, "Flex är igång", [drift]),
            ("meeting", "ability", 1, "Drop-in: hjälp med första rapporten", [drift]),
            ("film", "ability", 2, "Film: tidrapport på två minuter", [drift]),
            ("email", "reinforcement", 3, "Påminnelse: lämna veckans tidrapport i Flex", [drift, lager]),
        ):
            plan.asset_create(
                project=project,
                by=owner,
                audiences=audiences,
                channel=channel,
                stage=stage,
                title=title,
                offset_days=offset,
                subject=title if channel == "email" else "",
                preheader=FLEX_PREHEADERS.get(title, ""),
                body="<p>Hej {{ first_name }}!</p>" if channel == "email" else "",
            )
        self.stdout.write(f"Second project: {project.name}, go-live {go_live:%Y-%m-%d}")

    def _dashboard(self, project: ChangeProject, by) -> None:
        """A launch under way, for the dashboard: a pre-announcement went to the office audiences ten
        days ago, the poster has been scanned, seats are booked, and the pulse says the workshop floor
        and the warehouse in Västerås are stuck at knowledge while the buyers need training. The
        figures are refreshed at the end (the beat keeps them fresh afterwards)."""
        import random

        from audiences.selectors import audience_members
        from campaigns.analytics import services as analytics
        from campaigns.landing import services as landing
        from campaigns.models import (
            Asset,
            Booking,
            Delivery,
            EmailSend,
            EngagementCounter,
            LandingCounter,
            MeetingSession,
        )
        from campaigns.plan import services as plan

        audiences = {a.name: a for a in project.audiences.all()}
        everyone = audiences.get("Alla medarbetare")
        buyers = audiences.get("Beställare och attestanter")
        floor = audiences.get("Drift och lager i Västerås")
        service = audiences.get("Kundservice")
        if not (everyone and buyers and floor and service):
            analytics.analytics_refresh(project=project)
            return
        now = timezone.now()
        title = "Förhandsbesked: Atlas kommer"
        if not project.assets.filter(title=title).exists():
            sent_at = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=10), time(8, 30)))
            asset = plan.asset_create(
                project=project,
                by=by,
                audiences=[buyers, service],
                channel="email",
                stage="awareness",
                title=title,
                fixed_at=sent_at,
                subject="Atlas kommer – det här behöver du veta nu",
                preheader="Vad som ändras för dig i vår, och var du får svar på dina frågor.",
                body="<p>Hej {{ first_name }}!</p><p>I vår byter vi till Atlas för inköp och fakturor.</p>",
                button_label="Läs mer om Atlas",
            )
            # Sent before the demo began: recorded as the sender would have left it, without sending mail.
            Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.DONE)
            rows, seen = [], set()
            for audience, opened in ((buyers, 0.74), (service, 0.52)):
                members = [e for e in audience_members(audience=audience).order_by("pk") if e.pk not in seen]
                seen.update(e.pk for e in members)
                rows += [
                    Delivery(
                        asset=asset,
                        employee=e,
                        audience=audience,
                        status=Delivery.Status.SENT,
                        message_id=f"<demo-{asset.pk}-{e.pk}@{demo.EMAIL_DOMAIN}>",
                        attempts=1,
                        sent_at=sent_at + timedelta(seconds=i),
                    )
                    for i, e in enumerate(members)
                ]
                EngagementCounter.objects.create(
                    asset=asset,
                    audience=audience,
                    opens=round(len(members) * opened * 1.3),
                    clicks=round(len(members) * opened * 0.35),
                )
            Delivery.objects.bulk_create(rows)
            EmailSend.objects.create(
                asset=asset,
                state=EmailSend.State.DONE,
                due_at=sent_at,
                recipients=len(rows),
                scheduled_by=by,
                started_at=sent_at,
                finished_at=sent_at + timedelta(minutes=2),
            )
        # Visits per audience and scans of the poster: counters, set (not added to) so a rerun changes nothing.
        for audience, visits in ((buyers, 61), (service, 28), (floor, 9), (everyone, 14)):
            LandingCounter.objects.update_or_create(
                project=project,
                kind=LandingCounter.Kind.VISIT,
                source=None,
                audience=audience,
                defaults={"count": visits},
            )
        poster = project.assets.filter(channel="poster").first()
        if poster:
            LandingCounter.objects.update_or_create(
                project=project, kind=LandingCounter.Kind.SCAN, source=poster, audience=None, defaults={"count": 23}
            )
        # Seats booked at the information meetings (rows only: no invites go out for demo bookings).
        sessions = list(MeetingSession.objects.filter(meeting__project=project, meeting__title="Informationsträffar"))
        by_site = {s.site: s for s in sessions if s.site}
        online = next((s for s in sessions if s.online_url), None)
        rng = random.Random(2026)
        floor_ids = set(audience_members(audience=floor).values_list("pk", flat=True))
        buyer_ids = set(audience_members(audience=buyers).values_list("pk", flat=True))
        service_ids = set(audience_members(audience=service).values_list("pk", flat=True))
        for employee in audience_members(audience=everyone).order_by("pk"):
            in_floor, in_buyers = employee.pk in floor_ids, employee.pk in buyer_ids
            session = by_site.get(employee.site) or online
            books = (in_floor and rng.random() < 0.22) or (in_buyers and rng.random() < 0.45)
            if session and books and session.starts_at > now:
                Booking.objects.get_or_create(
                    session=session,
                    email=employee.email,
                    defaults={
                        "employee": employee,
                        "name": employee.full_name,
                        "status": Booking.Status.CONFIRMED,
                        "confirmed_at": now - timedelta(days=rng.randint(0, 8)),
                    },
                )
        # The pulse, per group: (share answering, averages per stage, reactions).
        profiles = {
            "floor": (0.3, (4.3, 3.6, 2.2, 1.9, 2.1), ("partly", "partly", "wrong", "right")),
            "buyers": (0.75, (4.7, 4.2, 3.7, 2.8, 3.2), ("right", "right", "partly", "right")),
            "service": (0.6, (4.6, 3.9, 3.8, 3.7, 3.3), ("right", "partly", "right", "right")),
            "others": (0.5, (4.1, 3.7, 3.7, 3.6, 3.4), ("right", "partly", "partly", "right")),
        }
        rng = random.Random(2027)
        for i, employee in enumerate(audience_members(audience=everyone).order_by("pk")):
            group, audience = "others", everyone
            if employee.pk in floor_ids:
                group, audience = "floor", floor
            elif employee.pk in buyer_ids:
                group, audience = "buyers", buyers
            elif employee.pk in service_ids:
                group, audience = "service", service
            share, means, reactions = profiles[group]
            # The first 120 answered already (the landing step): their answers are given again, in their group.
            if i >= 120 and rng.random() > share:
                continue
            scores = {
                stage: min(5, max(1, round(mean + rng.choice((-1, 0, 0, 1)) * 0.9)))
                for stage, mean in zip(
                    ("awareness", "desire", "knowledge", "ability", "reinforcement"), means, strict=True
                )
            }
            landing.pulse_submit(
                project=project, reaction=reactions[i % 4], scores=scores, employee=employee, audience_id=audience.pk
            )
        self._understanding(project, by, {"buyers": buyers, "floor": floor, "service": service, "everyone": everyone})
        self._cascade(project, by, everyone)
        state = analytics.analytics_refresh(project=project)
        self.stdout.write(f"Dashboard: figures refreshed in {state.duration_ms} ms")

    def _understanding(self, project: ChangeProject, by, audiences: dict) -> None:
        """How far people read, the comprehension question and its answers (the workshop floor
        mostly got it wrong: a "needs attention" item), and the pre-announcement's follow-up, sent
        four days later to those it had not reached. Set, not added to, so a rerun changes nothing."""
        import random

        from audiences.selectors import audience_members
        from campaigns.delivery import services as delivery
        from campaigns.landing import services as landing
        from campaigns.models import Asset, Comprehension, ComprehensionResponse, Delivery, EmailSend, ReadDepthCounter
        from campaigns.plan import services as plan

        # Read depth per audience: (lede only, into the story, everything) and where the story times fall.
        depths = {"buyers": (14, 25, 22), "service": (9, 12, 7), "floor": (6, 2, 1), "everyone": (5, 6, 3)}
        for key, counts in depths.items():
            for depth, count in zip((1, 2, 3), counts, strict=True):
                buckets = {1: [(0, count)], 2: [(20, count // 2), (45, count - count // 2)]}.get(
                    depth, [(60, count // 2), (90, count - count // 2)]
                )
                for bucket, n in buckets:
                    ReadDepthCounter.objects.update_or_create(
                        project=project,
                        audience=audiences[key],
                        depth=depth,
                        story_seconds=bucket,
                        defaults={"count": n},
                    )
        question = Comprehension.objects.filter(project=project).first() or landing.comprehension_save(
            project=project,
            by=by,
            text="Vad ändras för dig när Atlas startar?",
            answer_1="Inget, allt fungerar som förut",
            answer_2="Fakturor attesteras i Atlas, också i mobilen",
            answer_3="Alla beställningar går via kundservice",
            answer_4="Vi slutar attestera fakturor",
            right_answer=2,
            attention_above=30,
        )
        if "en" in project.other_languages and not question.translation("en"):
            landing.comprehension_translate(
                question=question,
                language="en",
                by=by,
                values={
                    "text": "What changes for you when Atlas starts?",
                    "answer_1": "Nothing, everything works as before",
                    "answer_2": "Invoices are approved in Atlas, on the phone too",
                    "answer_3": "Every order goes through customer service",
                    "answer_4": "We stop approving invoices",
                },
            )
        rng = random.Random(2028)
        shares = {"buyers": 0.82, "service": 0.7, "floor": 0.4}
        for key, right_share in shares.items():
            members = list(audience_members(audience=audiences[key]).order_by("pk")[:40])
            for employee in members:
                if rng.random() > 0.5:
                    continue
                answer = 2 if rng.random() < right_share else rng.choice((1, 3, 4))
                source = "email" if rng.random() < 0.4 else "page"  # drawn every run: the same sequence each time
                if not ComprehensionResponse.objects.filter(question=question, employee=employee).exists():
                    landing.comprehension_answer(
                        question=question,
                        answer=answer,
                        employee=employee,
                        audience_id=audiences[key].pk,
                        source=source,
                    )
        first = project.assets.filter(title="Förhandsbesked: Atlas kommer").first()
        if first is None or first.follow_ups.exists():
            return
        follow_up = plan.asset_follow_up_create(
            asset=first,
            days=4,
            subject="Missade du det? Atlas kommer",
            opening="Ifall mejlet förra veckan försvann i mängden: här är det viktigaste igen.",
            by=by,
        )
        sent_at = first.fixed_at + timedelta(days=4)
        # Sent before the demo began, to those the pre-announcement had not reached (as the pipeline would).
        Asset.objects.filter(pk=follow_up.pk).update(status=Asset.Status.DONE)
        reached = set(delivery.reached_by(asset=first).values_list("pk", flat=True))
        rows = [
            Delivery(
                asset=follow_up,
                employee_id=d.employee_id,
                audience_id=d.audience_id,
                status=Delivery.Status.SENT,
                message_id=f"<demo-{follow_up.pk}-{d.employee_id}@{demo.EMAIL_DOMAIN}>",
                attempts=1,
                sent_at=sent_at,
            )
            for d in Delivery.objects.filter(asset=first).exclude(employee_id__in=reached)
        ]
        Delivery.objects.bulk_create(rows)
        EmailSend.objects.create(
            asset=follow_up,
            state=EmailSend.State.DONE,
            due_at=sent_at,
            recipients=len(rows),
            scheduled_by=by,
            started_at=sent_at,
            finished_at=sent_at + timedelta(minutes=1),
        )
        self.stdout.write(f"Follow-up: {len(rows)} of {Delivery.objects.filter(asset=first).count()} not reached")

    def _cascade(self, project: ChangeProject, by, everyone) -> None:
        """A manager cascade in flight: every manager was briefed twelve days ago, the talks were due two
        days ago; about two in three have confirmed theirs (with a few of their teams' questions), the
        others are late and were reminded yesterday. Recorded as it would stand, without sending mail."""
        import random

        from campaigns.cascade.services import team_name, team_talks_create
        from campaigns.models import Asset, Delivery, EmailSend, Question, TeamTalk
        from campaigns.plan import services as plan

        title = "Teamsamtal: vad Atlas betyder för oss"
        if project.assets.filter(title=title).exists():
            return
        today = timezone.localdate()
        briefed_at = timezone.make_aware(datetime.combine(today - timedelta(days=12), time(8, 0)))
        asset = plan.asset_create(
            project=project,
            by=by,
            audiences=[everyone],
            channel="team_talk",
            stage="desire",
            title=title,
            fixed_at=briefed_at,
            talk_by_days=(today - timedelta(days=2) - project.go_live).days,
            subject="Ditt teamsamtal om Atlas",
            headline="Prata Atlas med ditt team",
            body=(
                "<p>Dina medarbetare vill höra vad Atlas betyder för just ert arbete – från dig.</p>"
                "<ul><li>Varför vi byter: en plats för inköp och fakturor.</li>"
                "<li>Vad som ändras för oss: beställning och attest i Atlas från driftstarten.</li>"
                "<li>Var vi får hjälp: superanvändare på varje ort och informationsträffarna.</li></ul>"
                "<p>Fråga gärna: vad oroar er, och vad ser ni fram emot?</p>"
            ),
        )
        # Managers who read the project in English are briefed in English.
        asset.set_translation(
            "en",
            {
                "subject": "Your team talk about Atlas",
                "headline": "Talk Atlas with your team",
                "body": (
                    "<p>Your team wants to hear what Atlas means for your own work – from you.</p>"
                    "<ul><li>Why we are changing: one place for purchasing and invoices.</li>"
                    "<li>What changes for us: ordering and approval in Atlas from go-live.</li>"
                    "<li>Where we get help: super users at every site and the information meetings.</li></ul>"
                    "<p>Do ask: what worries you, and what are you looking forward to?</p>"
                ),
            },
        )
        asset.save(update_fields=["translations"])
        Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.DONE)
        managers = list(Employee.objects.filter(direct_reports__isnull=False, is_active=True).distinct().order_by("pk"))
        Delivery.objects.bulk_create(
            [
                Delivery(
                    asset=asset,
                    employee=manager,
                    audience=everyone,
                    status=Delivery.Status.SENT,
                    message_id=f"<demo-{asset.pk}-{manager.pk}@{demo.EMAIL_DOMAIN}>",
                    attempts=1,
                    sent_at=briefed_at,
                )
                for manager in managers
            ]
        )
        EmailSend.objects.create(
            asset=asset,
            state=EmailSend.State.DONE,
            due_at=briefed_at,
            recipients=len(managers),
            scheduled_by=by,
            started_at=briefed_at,
            finished_at=briefed_at + timedelta(minutes=1),
        )
        team_talks_create(asset=asset)
        rng = random.Random(2028)
        questions = [
            "Hur lång tid tar det att lära sig attestera i Atlas?",
            "Får vi en superanvändare i vårt team?",
            "Vad händer med beställningar som ligger ute vid driftstarten?",
        ]
        yesterday = timezone.make_aware(datetime.combine(today - timedelta(days=1), time(7, 0)))
        for talk in TeamTalk.objects.filter(asset=asset).select_related("manager").order_by("pk"):
            if rng.random() < 0.65:
                held_on = today - timedelta(days=rng.randint(3, 10))
                TeamTalk.objects.filter(pk=talk.pk).update(
                    held_on=held_on,
                    attendees=max(1, talk.team_size - rng.randint(0, 2)),
                    confirmed_at=timezone.make_aware(datetime.combine(held_on, time(15, 0))),
                )
                if rng.random() < 0.3:
                    Question.objects.create(project=project, text=rng.choice(questions), name=team_name(talk.manager))
            else:
                TeamTalk.objects.filter(pk=talk.pk).update(reminded_at=yesterday)


SECOND_SLUG = "flex-tidrapportering"

LANDING_QUESTIONS = [
    (
        "Måste jag gå en utbildning innan driftstarten?",
        "",
        "<p>Alla som beställer eller attesterar går en kort webbutbildning (20 minuter) före driftstarten. "
        "Länken kommer i mejlet två veckor innan. Informationsträffarna är frivilliga men varmt rekommenderade.</p>",
    ),
    (
        "Vad händer med fakturor som jag redan har börjat attestera i det gamla systemet?",
        "Maria, Inköp",
        "<p>Fakturor som är påbörjade före driftstarten attesterar du klart i det gamla systemet. "
        "Det är öppet för det i tre veckor efter driftstarten.</p>",
    ),
    (
        "Fungerar Atlas i mobilen ute i verkstaden?",
        "",
        "<p>Ja. Atlas fungerar i mobilens webbläsare, och du loggar in med samma konto som på datorn. "
        "Appen för kvittofoton kommer i en senare etapp.</p>",
    ),
    (
        "Vem hjälper mig om något inte fungerar första veckan?",
        "Jonas",
        "<p>Superanvändare finns på varje ort under de två första veckorna, och supporten har utökade "
        "öppettider: vardagar 7–18 på telefon 010-123 45 00.</p>",
    ),
]
