"""The "standard internal launch" plan template, in English and Swedish. Admins edit it as data."""

from django.db import migrations

# channel, stage, offset, sender, title, subject, body
ITEMS = {
    "standard-internal-launch": (
        "Standard internal launch",
        "A teaser, the sponsor's why, information meetings, a handout and a poster, the go-live email, a film, "
        "a readiness pulse and a “you asked, we answered” follow-up.",
        [
            ("meeting", "desire", -42, "change_manager", "Cross-functional group workshop", "", "<p>Catch needs and objections early with people from every department.</p>"),
            ("email", "awareness", -35, "change_manager", "Teaser: something is coming", "Something new is coming on {{ go_live }}", "<p>Hi {{ first_name }},</p><p>On {{ go_live }} we start using something new. Here is a first look, and why.</p>"),
            ("poster", "awareness", -35, "change_manager", "Poster for lunch rooms and workshops", "", "<p>Something new is coming. Scan the code to read why.</p>"),
            ("email", "awareness", -28, "sponsor", "The sponsor's why", "Why we are making this change", "<p>Hi {{ first_name }},</p><p>I want to tell you why we are making this change, and what it means for us.</p>"),
            ("meeting", "knowledge", -21, "change_manager", "Information meetings", "", "<p>Questions answered face to face, at every site and online.</p>"),
            ("handout", "knowledge", -14, "change_manager", "Handout: what changes for me", "", "<p>What changes, when, and where to get help.</p>"),
            ("news", "knowledge", -14, "change_manager", "News: the plan and the dates", "", "<p>Here is what happens when.</p>"),
            ("film", "knowledge", -7, "change_manager", "Film: see it work", "", "<p>Two minutes that show the new way of working.</p>"),
            ("email", "ability", 0, "change_manager", "Go-live: how to start", "It's live: how to get started today", "<p>Hi {{ first_name }},</p><p>Today is the day. Here is how you start, and where to get help.</p>"),
            ("email", "reinforcement", 14, "change_manager", "Readiness pulse", "How ready do you feel? Five quick questions", "<p>Hi {{ first_name }},</p><p>Tell us how it is going: five statements, one minute.</p>"),
            ("email", "reinforcement", 30, "sponsor", "You asked, we answered", "You asked, we answered", "<p>Hi {{ first_name }},</p><p>Thank you for your questions. Here are the answers, and a story from a colleague.</p>"),
        ],
    ),
    "standard-internlansering": (
        "Standard internlansering",
        "En teaser, sponsorns varför, informationsträffar, informationsblad och affisch, driftstartsmejlet, en film, "
        "en pulsmätning och ”ni frågade, vi svarar”.",
        [
            ("meeting", "desire", -42, "change_manager", "Workshop med tvärgruppen", "", "<p>Fånga behov och invändningar tidigt med folk från alla avdelningar.</p>"),
            ("email", "awareness", -35, "change_manager", "Teaser: något nytt är på väg", "Något nytt kommer den {{ go_live }}", "<p>Hej {{ first_name }}!</p><p>Den {{ go_live }} börjar vi använda något nytt. Här är en första glimt, och varför.</p>"),
            ("poster", "awareness", -35, "change_manager", "Affisch för lunchrum och verkstad", "", "<p>Något nytt är på väg. Skanna koden och läs varför.</p>"),
            ("email", "awareness", -28, "sponsor", "Sponsorns varför", "Därför gör vi den här förändringen", "<p>Hej {{ first_name }}!</p><p>Jag vill berätta varför vi gör den här förändringen och vad den betyder för oss.</p>"),
            ("meeting", "knowledge", -21, "change_manager", "Informationsträffar", "", "<p>Frågor besvarade ansikte mot ansikte, på alla orter och digitalt.</p>"),
            ("handout", "knowledge", -14, "change_manager", "Informationsblad: vad ändras för mig", "", "<p>Vad som ändras, när, och var du får hjälp.</p>"),
            ("news", "knowledge", -14, "change_manager", "Nyhet: planen och datumen", "", "<p>Det här händer och när.</p>"),
            ("film", "knowledge", -7, "change_manager", "Film: så fungerar det", "", "<p>Två minuter som visar det nya arbetssättet.</p>"),
            ("email", "ability", 0, "change_manager", "Driftstart: så kommer du igång", "Nu är det live – så kommer du igång i dag", "<p>Hej {{ first_name }}!</p><p>I dag är dagen. Så här kommer du igång, och här får du hjälp.</p>"),
            ("email", "reinforcement", 14, "change_manager", "Pulsmätning", "Hur redo känner du dig? Fem snabba frågor", "<p>Hej {{ first_name }}!</p><p>Berätta hur det går: fem påståenden, en minut.</p>"),
            ("email", "reinforcement", 30, "sponsor", "Ni frågade, vi svarar", "Ni frågade, vi svarar", "<p>Hej {{ first_name }}!</p><p>Tack för era frågor. Här är svaren, och en berättelse från en kollega.</p>"),
        ],
    ),
}


def create(apps, schema_editor):
    PlanTemplate = apps.get_model("campaigns", "PlanTemplate")
    PlanTemplateItem = apps.get_model("campaigns", "PlanTemplateItem")
    for slug, (name, description, items) in ITEMS.items():
        template, created = PlanTemplate.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
        if not created:
            continue
        for order, (channel, stage, offset, sender, title, subject, body) in enumerate(items):
            PlanTemplateItem.objects.create(
                template=template, channel=channel, stage=stage, offset_days=offset, sender_kind=sender,
                title=title, subject=subject, body=body, order=order,
            )


def remove(apps, schema_editor):
    apps.get_model("campaigns", "PlanTemplate").objects.filter(slug__in=ITEMS).delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_launch_plan")]
    operations = [migrations.RunPython(create, remove)]
