"""The few views that belong to the project rather than to an app."""

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from datalab.security import content_security_policy


@require_GET
def healthz(request) -> JsonResponse:
    """Liveness and metadata-database readiness, for load balancers and `make run`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "event_store": settings.EVENT_STORE})


@require_GET
@content_security_policy
def dashboard(request) -> HttpResponse:
    """The Vue dashboard's entry page once built (static/dist), else a plain start page; at
    every client route (`/apps/3/funnel?...`), so that links and reloads work."""
    index = settings.BASE_DIR / "static" / "dist" / "index.html"
    if index.is_file():
        return HttpResponse(index.read_text(), content_type="text/html")
    return render(request, "datalab/start.html")
