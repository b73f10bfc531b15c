"""URL converters of the project."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # the largest integer PostgreSQL's bigint and SQLite's INTEGER hold


class IdConverter:
    """`<id:name>`: a database id, 1 to MAX_ID. A larger number matches no route (a 404), not
    a query the database cannot run (found by fuzzing the API)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError("not an id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)
