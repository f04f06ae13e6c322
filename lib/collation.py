"""Lists of people in the organisation's alphabetical order: Swedish puts Å, Ä and Ö after Z.

The database does the sorting with an ICU collation (PostgreSQL ships them; `SORT_COLLATION`,
"sv-SE-x-icu" by default), so the order holds for pages, exports and the admin alike, with no
sort key written by hand. SQLite (the embedded `make run` database) has no ICU collations and
sorts as it always did.
"""

from django.conf import settings
from django.db.models.functions import Collate


class Alphabetical(Collate):
    """`field` compared in the organisation's alphabetical order."""

    def __init__(self, field: str):
        super().__init__(field, settings.SORT_COLLATION)

    def as_sqlite(self, compiler, connection, **extra_context):
        return compiler.compile(self.get_source_expressions()[0])


def people_order() -> list:
    """ORDER BY for lists of employees: last name, first name, then a tie-breaker."""
    return [Alphabetical("last_name").asc(), Alphabetical("first_name").asc(), "id"]
