"""A realistic, deterministic Swedish organisation for the demo, tests and benchmarks.

Rows come out as an HR system exports them: Swedish headers, one dict per person.
"""

import random
from collections.abc import Iterator

FIRST_NAMES = [
    "Anna",
    "Eva",
    "Maria",
    "Karin",
    "Sara",
    "Lena",
    "Kristina",
    "Emma",
    "Linnéa",
    "Ingrid",
    "Åsa",
    "Malin",
    "Jenny",
    "Hanna",
    "Sofia",
    "Elin",
    "Ida",
    "Maja",
    "Märta",
    "Agnes",
    "Lars",
    "Mikael",
    "Anders",
    "Johan",
    "Per",
    "Erik",
    "Karl",
    "Peter",
    "Jonas",
    "Magnus",
    "Björn",
    "Göran",
    "Åke",
    "Örjan",
    "Stefan",
    "Mattias",
    "Oskar",
    "Ali",
    "Mohammed",
    "Noah",
    "Hugo",
    "Elias",
    "Aisha",
    "Fatima",
    "Amir",
    "Nils",
    "Sven",
    "Gunnar",
    "Linus",
    "Olof",
    "Renée",
    "José",
    "Zoë",
    "Tove",
    "Sigrid",
    "Ebba",
    "Astrid",
    "Viktor",
    "André",
    "Hélène",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Jönsson",
    "Lindberg",
    "Jakobsson",
    "Magnusson",
    "Olofsson",
    "Lindström",
    "Lindqvist",
    "Lindgren",
    "Axelsson",
    "Berg",
    "Bergström",
    "Lundberg",
    "Lundgren",
    "Mattsson",
    "Berglund",
    "Fredriksson",
    "Sandberg",
    "Henriksson",
    "Forsberg",
    "Sjöberg",
    "Wallin",
    "Engström",
    "Eklund",
    "Danielsson",
    "Håkansson",
    "Öberg",
    "Åberg",
    "Ström",
    "Holm",
    "Hussein",
    "Ali",
    "Mohammadi",
    "Nyström",
    "Åström",
    "Söderberg",
]
# (department, share of staff, titles)
DEPARTMENTS = [
    ("Drift och underhåll", 0.26, ["Drifttekniker", "Elektriker", "Underhållstekniker", "Arbetsledare"]),
    ("Kundservice", 0.16, ["Kundrådgivare", "Teamledare kundservice", "Kundrådgivare företag"]),
    ("Lager och logistik", 0.12, ["Lagerarbetare", "Truckförare", "Logistikplanerare"]),
    ("Ekonomi", 0.09, ["Redovisningsekonom", "Controller", "Löneadministratör", "Ekonomiassistent"]),
    ("Inköp", 0.07, ["Inköpare", "Strategisk inköpare", "Inköpsassistent"]),
    ("Försäljning", 0.1, ["Säljare", "Key account manager", "Säljsupport"]),
    ("IT", 0.09, ["Systemutvecklare", "IT-tekniker", "Systemförvaltare", "IT-arkitekt"]),
    ("HR", 0.05, ["HR-partner", "HR-specialist", "Rekryterare"]),
    ("Kommunikation", 0.03, ["Kommunikatör", "Webbredaktör"]),
    ("Ledning", 0.03, ["Vd", "Ekonomichef", "Driftchef", "Försäljningschef"]),
]
SITES = [("Västerås", 0.38), ("Stockholm", 0.22), ("Eskilstuna", 0.16), ("Uppsala", 0.14), ("Örebro", 0.10)]
EMAIL_DOMAIN = "norrstromenergi.se"
ORGANISATION = "Norrström Energi AB"

# Offices abroad, each with its time zone; at home the column is empty (the organisation's zone).
OFFICES_ABROAD = {"Helsingfors": "Europe/Helsinki", "London": "Europe/London"}

HEADERS = [
    "Anställningsnummer",
    "Förnamn",
    "Efternamn",
    "E-post",
    "Avdelning",
    "Ort",
    "Befattning",
    "Chef",
    "Språk",
    "Tidszon",
]


def _ascii_local_part(text: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ë": "e", "ü": "u", " ": ""})
    return text.lower().translate(table)


def demo_employee_rows(count: int = 340, seed: int = 2026) -> Iterator[dict[str, str]]:
    """Yield `count` people with unique emails and employee numbers, the same every time."""
    rng = random.Random(seed)
    departments = [d for d, _, _ in DEPARTMENTS]
    dept_weights = [w for _, w, _ in DEPARTMENTS]
    titles = {d: t for d, _, t in DEPARTMENTS}
    sites = [s for s, _ in SITES]
    site_weights = [w for _, w in SITES]
    managers: dict[tuple[str, str], str] = {}
    used: set[str] = set()
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{_ascii_local_part(first)}.{_ascii_local_part(last)}"
        email, n = f"{local}@{EMAIL_DOMAIN}", 2
        while email in used:
            email, n = f"{local}{n}@{EMAIL_DOMAIN}", n + 1
        used.add(email)
        department = rng.choices(departments, dept_weights)[0]
        site = rng.choices(sites, site_weights)[0]
        number = f"NE{10000 + i}"
        title = rng.choice(titles[department])
        language = "en" if rng.random() < 0.08 else "sv"
        # Without drawing again (the same people every time): half the English readers work in the
        # London office, and every twentieth person in the Helsinki one (a Finland-Swede reads Swedish).
        if language == "en" and i % 2 == 0:
            site = "London"
        elif i % 20 == 7:
            site = "Helsingfors"
        # The first person of each department and site manages the rest there (the Chef column holds their ID).
        manager = managers.setdefault((department, site), number)
        yield {
            "Anställningsnummer": number,
            "Förnamn": first,
            "Efternamn": last,
            "E-post": email,
            "Avdelning": department,
            "Ort": site,
            "Befattning": title,
            "Chef": "" if manager == number else manager,
            "Språk": language,
            "Tidszon": OFFICES_ABROAD.get(site, ""),
        }
