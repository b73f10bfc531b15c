"""GET /api/v1/apps/{id}/insights/...: JSON, or CSV with ?format=csv."""

from __future__ import annotations

from django.utils.text import slugify
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps_registry.selectors import app_visible_to, apps_visible_to
from datalab.errors import InvalidInput
from insights import selectors
from insights.query import parse_query
from insights.renderers import CSVRenderer


class InsightView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]
    name = ""  # the report's name, in the CSV file name

    def answer(self, request, app_id) -> dict:
        raise NotImplementedError

    def table(self, body: dict) -> list[dict]:
        """The rows of the CSV form of `body`."""
        return body["results"]

    @extend_schema(responses=dict)
    def get(self, request, app_id):
        app = app_visible_to(request.user, app_id)
        self.query = parse_query(app, request.query_params)
        body = self.answer(request, app_id)
        if getattr(request.accepted_renderer, "format", "") == "csv":
            return Response(self.table(body), headers={"Content-Disposition": self._file(app)})
        return Response(body)

    def _file(self, app) -> str:
        q = self.query
        name = slugify(app.name) or f"app-{app.pk}"
        report = self.name.replace("/", "-")
        return f'attachment; filename="{name}-{report}-{q.first_day}-{q.last_day}.csv"'

    def finalize_response(self, request, response, *args, **kwargs):
        # An error is JSON, also when CSV was asked for: the one error shape everywhere.
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def _int(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} must be {low} to {high}.", fields={name: ["Out of range."]})
    return int(raw)


class OverviewView(InsightView):
    def answer(self, request, app_id):
        compare = request.query_params.get("compare", "")
        if compare not in ("", "previous"):
            raise InvalidInput("compare is previous.", fields={"compare": ["Use previous."]})
        return selectors.overview(self.query, compare=compare == "previous")

    def table(self, body):
        return body["series"]


class PagesView(InsightView):
    def answer(self, request, app_id):
        return selectors.pages(self.query)


class TechnologyView(InsightView):
    def answer(self, request, app_id):
        return selectors.technology(self.query)

    def table(self, body):
        return [
            {"dimension": dim, **row} for dim in ("browsers", "os", "devices") for row in body[dim]
        ]


class SourcesView(InsightView):
    def answer(self, request, app_id):
        return selectors.sources(self.query)

    def table(self, body):
        return [{"kind": "referrer", **r} for r in body["referrers"]] + [
            {"kind": "campaign", **r} for r in body["campaigns"]
        ]


class FunnelView(InsightView):
    def answer(self, request, app_id):
        distinct = request.query_params.get("distinct") in ("1", "true", "yes")
        return selectors.funnel(self.query, distinct=distinct)

    def table(self, body):
        return body["stages"]


class FunnelDropoffsView(InsightView):
    def answer(self, request, app_id):
        stage = _int(request, "stage", 2, 2, 20)
        return selectors.funnel_dropoffs(self.query, stage)

    def table(self, body):
        return body["visitors"]


class JourneysView(InsightView):
    def answer(self, request, app_id):
        direction = request.query_params.get("direction", "forward")
        if direction not in ("forward", "backward"):
            raise InvalidInput("direction is forward or backward.", fields={"direction": ["?"]})
        start = request.query_params.get("start") or None
        steps = _int(request, "steps", 5, 2, 20)
        return selectors.journeys(self.query, start=start, steps=steps, direction=direction)

    def table(self, body):
        return body["links"]


class ElementsView(InsightView):
    def answer(self, request, app_id):
        return selectors.elements(self.query)


class LiveView(InsightView):
    def answer(self, request, app_id):
        return selectors.live(self.query)

    def table(self, body):
        return body["events"]


class AppsSummaryView(APIView):
    """GET /api/v1/apps/summary: today's figures of every app the user sees (the apps list)."""

    @extend_schema(responses=dict)
    def get(self, request):
        return Response({"results": selectors.apps_today(apps_visible_to(request.user))})
