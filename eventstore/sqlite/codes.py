"""The dictionary: dense per-partition codes of visitor and session ids in column parts."""

from __future__ import annotations

import sqlite3

from .schema import IN_CHUNK

NEXT_CODE = """
SELECT COALESCE(MAX(code) + 1, 0) FROM dictionary WHERE app_id = ? AND epoch = ? AND kind = ?
"""


def lookup_codes(
    conn: sqlite3.Connection, app_id: int, epoch: int, kind: str, values: set[str]
) -> dict[str, int]:
    """The dictionary's codes of those values that have one."""
    wanted = sorted(values)
    codes: dict[str, int] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        codes.update(
            conn.execute(
                "SELECT value, code FROM dictionary WHERE app_id = ? AND epoch = ? AND kind = ? "
                f"AND value IN ({', '.join('?' * len(chunk))})",
                (app_id, epoch, kind, *chunk),
            )
        )
    return codes


def assign_codes(
    conn: sqlite3.Connection, app_id: int, epoch: int, kind: str, values: set[str]
) -> dict[str, int]:
    """The partition's codes of these values; new values get the next free codes."""
    codes = lookup_codes(conn, app_id, epoch, kind, values)
    new = sorted(value for value in values if value not in codes)
    if new:
        (next_code,) = conn.execute(NEXT_CODE, (app_id, epoch, kind)).fetchone()
        assigned = {value: next_code + i for i, value in enumerate(new)}
        conn.executemany(
            "INSERT INTO dictionary (app_id, epoch, kind, value, code) VALUES (?, ?, ?, ?, ?)",
            [(app_id, epoch, kind, value, code) for value, code in assigned.items()],
        )
        codes.update(assigned)
    return codes
