"""Merge fields: `{{ first_name }}` and friends, substituted by a small restricted engine.

User-authored text is never rendered as a Django template. This module knows a fixed
set of field names; anything else in double braces, and any template tag or comment
syntax, is refused when the text is saved, with an error naming it. Substituted values
are HTML-escaped when the target is HTML.
"""

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FIELD_PATTERN = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
ANY_VARIABLE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
ANY_TAG = re.compile(r"\{%(.*?)%\}|\{#(.*?)#\}", re.DOTALL)

# name -> description shown in the editor's list of fields
FIELDS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name"),
    "department": gettext_lazy("Department"),
    "site": gettext_lazy("Site"),
    "title": gettext_lazy("Title"),
    "landing_url": gettext_lazy("Link to the landing page (personal where possible)"),
    "project_name": gettext_lazy("Project name"),
    "go_live": gettext_lazy("Go-live date"),
    "days_to_go_live": gettext_lazy("Days to go-live"),
    "sponsor_name": gettext_lazy("Sponsor's name"),
    "sponsor_title": gettext_lazy("Sponsor's title"),
}


@dataclass(frozen=True)
class MergeProblem:
    token: str
    message: str


def find_problems(text: str | None) -> list[MergeProblem]:
    """Every template tag, comment or unknown field in `text`, in order of appearance."""
    if not text:
        return []
    problems: list[MergeProblem] = []
    for match in ANY_TAG.finditer(text):
        token = match.group(0)
        problems.append(
            MergeProblem(
                token, _("%(token)s is not allowed: only merge fields such as {{ first_name }} are.") % {"token": token}
            )
        )
    for match in ANY_VARIABLE.finditer(text):
        token = match.group(0)
        inner = match.group(1).strip()
        if inner not in FIELDS:
            problems.append(
                MergeProblem(
                    token,
                    _("Unknown merge field %(token)s. Available: %(fields)s.")
                    % {"token": token, "fields": ", ".join(f"{{{{ {name} }}}}" for name in FIELDS)},
                )
            )
    return problems


def merge(text: str | None, values: dict[str, str], *, html: bool) -> str:
    """Substitute known fields in text that passed `find_problems`; values are escaped for HTML targets."""
    if not text:
        return ""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in FIELDS:
            return match.group(0)
        value = str(values.get(name, ""))
        return escape(value) if html else value

    return FIELD_PATTERN.sub(replace, text)
