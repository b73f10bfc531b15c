"""Dependency audit with what the build machines reach: `make audit` (docs/security.md).

`pip-audit` and `npm audit` cannot run here (their vulnerability services are not reachable), but
the registries' package metadata is. For every Python distribution in the venv, PyPI's project
JSON gives the newest release and the known vulnerabilities *of that release* (PyPI's OSV data):
for a distribution at its newest release that is a vulnerability check; one behind it is listed
with both versions. For every runtime package of static/package-lock.json (what the dashboard and
the snippet ship), the npm registry gives the newest version and whether it is deprecated.

    .venv/bin/python infra/audit.py        exit 1 when a vulnerability or a deprecation is listed
"""

from __future__ import annotations

import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ".".join(map(str, sys.version_info[:3]))
OURS = {"datalab"}  # installed from this source tree, never from PyPI (a namesake lives there)


def fetch(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def newest_for_this_python(releases: dict[str, list[dict]]) -> str | None:
    """The newest final release with a file installable on this Python."""
    fits = [
        Version(version)
        for version, files in releases.items()
        if not Version(version).is_prerelease
        and any(
            not f.get("yanked") and PYTHON in SpecifierSet(f.get("requires_python") or "")
            for f in files
        )
    ]
    return str(max(fits)) if fits else None


def python_rows() -> list[tuple[str, str, str, str]]:
    installed = {d.metadata["Name"].lower(): d.version for d in metadata.distributions()}

    def row(name: str) -> tuple[str, str, str, str]:
        project = fetch(f"https://pypi.org/pypi/{name}/json")
        newest, version = project["info"]["version"], installed[name]
        if version == newest:
            ids = [v.get("id", "?") for v in project.get("vulnerabilities") or []]
            return name, version, newest, ("VULNERABLE: " + ", ".join(ids)) if ids else "ok"
        if version == newest_for_this_python(project["releases"]):
            return name, version, newest, f"the newest for Python {PYTHON} (no vulnerability data)"
        return name, version, newest, "behind (no vulnerability data for this version)"

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(row, sorted(set(installed) - OURS)))


def npm_rows() -> list[tuple[str, str, str, str]]:
    lock = json.loads((ROOT / "static" / "package-lock.json").read_text())
    shipped = {
        path.rpartition("node_modules/")[2]: entry["version"]
        for path, entry in lock["packages"].items()
        if "node_modules/" in path and not entry.get("dev") and "version" in entry
    }

    def row(name: str) -> tuple[str, str, str, str]:
        newest = fetch(f"https://registry.npmjs.org/{name}/latest")
        deprecated = fetch(f"https://registry.npmjs.org/{name}/{shipped[name]}").get("deprecated")
        state = "DEPRECATED: " + deprecated if deprecated else "ok"
        if shipped[name] != newest["version"] and not deprecated:
            state = "behind"
        return name, shipped[name], newest["version"], state

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(row, sorted(shipped)))


def main() -> int:
    failed = False
    for title, rows in (("Python (.venv)", python_rows()), ("npm (shipped)", npm_rows())):
        print(f"{title}: {len(rows)} packages, {sum(r[1] == r[2] for r in rows)} at the newest")
        for name, version, newest, state in rows:
            if state != "ok":
                print(f"  {name} {version} (newest {newest}): {state}")
            failed |= state.startswith(("VULNERABLE", "DEPRECATED"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
