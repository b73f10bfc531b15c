"""What browsers are told: a Content-Security-Policy that allows what datalab's pages load and
nothing more, no framing, HSTS behind TLS, CSRF on the admin, a clean `check --deploy`."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from tests.live_server import ROOT
from tests.services import required_service

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DATALAB_SECRET_KEY": "x" * 30 + "-production-like-secret-key-0123456789",
    "DATALAB_HTTPS": "true",
    "DATALAB_ALLOWED_HOSTS": "datalab.example.com",
}


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize("path", ["/", "/apps/3/funnel", "/login", "/demo/"])
def test_pages_allow_only_their_own_scripts_styles_and_connections(client, path):
    response = client.get(path)

    policy = _directives(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_built_dashboard_has_no_inline_script_or_style():
    index = settings.BASE_DIR / "static" / "dist" / "index.html"
    if not index.is_file():
        required_service("DATALAB_TEST_DASHBOARD_BUILT", "The built dashboard (make frontend)")
    html = index.read_text()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and " style=" not in html and "javascript:" not in html


def test_the_admin_refuses_a_post_without_its_csrf_token(owner):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)  # as a browser: no token, no post
    response = browser.post("/admin/login/", {"username": owner.email, "password": "x"})

    assert response.status_code == 403
    assert "CSRF" in response.content.decode()


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    """A management command in a process of its own, with production-like settings."""
    environment = {**os.environ, **env, "DATALAB_DATA_DIR": str(settings.DATA_DIR)}
    environment.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_behind_tls_browsers_are_told_to_keep_to_https():
    shell = (
        "from django.test import Client; r = Client().get('/healthz', secure=True, "
        "HTTP_HOST='datalab.example.com'); print(r.status_code, r['Strict-Transport-Security'])"
    )
    result = _manage("shell", "-c", shell, env=PRODUCTION)

    assert (
        result.stdout.strip().splitlines()[-1] == "200 max-age=31536000; includeSubDomains; preload"
    ), result.stderr
