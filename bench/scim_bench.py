"""Directory provisioning benchmark: `python -m bench.scim_bench [USERS]`.

In one fresh PostgreSQL database (`benchscim` unless DATABASE_URL says otherwise) and in the
same run, with the same USERS people (10 000 by default, from audiences.demo):

- baseline: the CSV import creating them from an HR export, then updating every one of them
  (a second export where each person's title and department changed);
- SCIM: the same people provisioned through one POST /scim/v2/Users each, then one PATCH each
  changing the same two fields, as Microsoft Entra ID sends them (a path-less `Replace` with the
  enterprise department), through Django's test client in process: the full middleware, the
  bearer token, parsing, validation, the write and its history row, the JSON answer.

It prints SCIM's rates as ratios of the CSV import's, the queries of one PATCH, and peak memory.
An identity provider sends one request per person, so SCIM cannot match a bulk import's rate;
what matters is that a 10 000-person organisation is provisioned in minutes and that a change
costs a constant handful of queries.
"""

import csv
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.databases import recreate_postgres_database
from bench.results import record

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/benchscim"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM = "application/scim+json"


def _django() -> str:
    import environ

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchpad.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("LAUNCHPAD_TESTING", "true")
    os.environ.setdefault("CONN_MAX_AGE", "60")
    config = environ.Env.db_url_config(url)
    if "postgresql" in config["ENGINE"]:
        recreate_postgres_database(config)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _people(count: int) -> list[dict[str, str]]:
    from audiences import demo

    return list(demo.demo_employee_rows(count))


def _changed(person: dict[str, str]) -> dict[str, str]:
    return {**person, "Befattning": f"{person['Befattning']} (ny)", "Avdelning": f"{person['Avdelning']} Nord"}


def _write_export(path: Path, people: list[dict[str, str]]) -> None:
    from audiences import demo

    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, demo.HEADERS, delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(people)


def _empty_directory() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE audiences_employee RESTART IDENTITY CASCADE")
        else:
            cursor.execute("DELETE FROM audiences_employeechange")
            cursor.execute("DELETE FROM audiences_employee")


def _csv_import(people: list[dict[str, str]]) -> tuple[float, float, str, str]:
    from audiences.imports import directory_import_run

    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "export.csv", Path(tmp) / "export-changed.csv"
        _write_export(first, people)
        _write_export(second, [_changed(p) for p in people])
        started = time.perf_counter()
        created = directory_import_run(source=str(first))
        create_seconds = time.perf_counter() - started
        started = time.perf_counter()
        updated = directory_import_run(source=str(second))
        update_seconds = time.perf_counter() - started
    return create_seconds, update_seconds, created.summary_line(), updated.summary_line()


def _user(person: dict[str, str], number: int) -> dict:
    return {
        "schemas": [USER, ENTERPRISE],
        "externalId": f"entra-{number:08d}",
        "userName": person["E-post"],
        "active": True,
        "displayName": f"{person['Förnamn']} {person['Efternamn']}",
        "name": {"givenName": person["Förnamn"], "familyName": person["Efternamn"]},
        "emails": [{"value": person["E-post"], "type": "work", "primary": True}],
        "title": person["Befattning"],
        "preferredLanguage": "sv-SE",
        "addresses": [{"type": "work", "locality": person["Ort"]}],
        ENTERPRISE: {"employeeNumber": person["Anställningsnummer"], "department": person["Avdelning"]},
    }


def _patch(person: dict[str, str]) -> dict:
    changed = _changed(person)
    return {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "title", "value": changed["Befattning"]},
            {"op": "Replace", "value": {f"{ENTERPRISE}:department": changed["Avdelning"]}},
        ],
    }


def _scim(people: list[dict[str, str]]) -> dict:
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from audiences.scim.services import scim_token_create

    _token, raw = scim_token_create(name="bench", by=None)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    bodies = [json.dumps(_user(person, n)) for n, person in enumerate(people)]
    patches = [json.dumps(_patch(person)) for person in people]
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = Client()
        started = time.perf_counter()
        for _ in range(1000):
            assert client.get("/scim/v2/ServiceProviderConfig", **headers).status_code == 200
        config_seconds = time.perf_counter() - started

        ids = []
        started = time.perf_counter()
        for body in bodies:
            response = client.post("/scim/v2/Users", body, content_type=SCIM, **headers)
            assert response.status_code == 201, response.content
            ids.append(response.json()["id"])
        post_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for scim_id, body in zip(ids, patches, strict=True):
            response = client.patch(f"/scim/v2/Users/{scim_id}", body, content_type=SCIM, **headers)
            assert response.status_code == 200, response.content
        patch_seconds = time.perf_counter() - started

        lookup = client.get("/scim/v2/Users", {"filter": f'userName eq "{people[-1]["E-post"]}"'}, **headers)
        assert lookup.json()["totalResults"] == 1
        with CaptureQueriesContext(connection) as queries:
            body = json.dumps(
                {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
            )
            client.patch(f"/scim/v2/Users/{ids[0]}", body, content_type=SCIM, **headers)
    return {
        "config_seconds": config_seconds,
        "post_seconds": post_seconds,
        "patch_seconds": patch_seconds,
        "patch_queries": len(queries),
    }


def main(count: int) -> None:
    vendor = _django()
    people = _people(count)
    csv_create, csv_update, created, updated = _csv_import(people)
    _empty_directory()
    scim = _scim(people)

    csv_create_rate, csv_update_rate = count / csv_create, count / csv_update
    post_rate, patch_rate = count / scim["post_seconds"], count / scim["patch_seconds"]
    config_rate = 1000 / scim["config_seconds"]
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores (shared with other work), "
        f"{platform.machine()}, Python {platform.python_version()}, database: {vendor}",
        f"- command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchscim python -m bench.scim_bench {count}`",
        f"- baseline, the CSV import of the same {count:,} people: create {csv_create:.2f} s = {csv_create_rate:,.0f} "
        f"people/s ({created}); update of all of them {csv_update:.2f} s = {csv_update_rate:,.0f} people/s ({updated})",
        f"- SCIM, one request per person through Django's test client in process (middleware, bearer token, "
        f"scim2-models parsing, write, history row, JSON answer): {count:,} POSTs {scim['post_seconds']:.1f} s = "
        f"**{post_rate:,.0f} users/s**; {count:,} Entra-style PATCHes (title, enterprise department) "
        f"{scim['patch_seconds']:.1f} s = **{patch_rate:,.0f} users/s**",
        f"- SCIM / CSV import: create **{post_rate / csv_create_rate:.3f}×**, update **{patch_rate / csv_update_rate:.3f}×** "
        "(a bulk file against one HTTP request per person: the figure to watch is the absolute rate)",
        f"- for scale, the cheapest authenticated SCIM request (GET ServiceProviderConfig, token lookup only): "
        f"{config_rate:,.0f} req/s; POST / that: {post_rate / config_rate:.2f}×, PATCH / that: {patch_rate / config_rate:.2f}×",
        f"- queries of one PATCH here: {scim['patch_queries']}, whatever the directory's size (the count is pinned "
        "by audiences/scim/tests/test_views.py)",
        f"- peak RSS of the benchmark process: {_peak_rss_mb():.0f} MB",
    ]
    report = "\n".join(lines)
    print(report)
    record("scim", report)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
