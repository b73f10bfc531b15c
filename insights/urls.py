from django.urls import path

from insights import views

_ROUTES = {
    "overview": views.OverviewView,
    "pages": views.PagesView,
    "technology": views.TechnologyView,
    "sources": views.SourcesView,
    "funnel": views.FunnelView,
    "funnel/dropoffs": views.FunnelDropoffsView,
    "journeys": views.JourneysView,
    "elements": views.ElementsView,
    "live": views.LiveView,
}

urlpatterns = [
    path("apps/summary", views.AppsSummaryView.as_view(), name="apps-summary"),
    *(
        path(
            f"apps/<id:app_id>/insights/{name}",
            view.as_view(name=name),
            name=f"insights-{name}",
        )
        for name, view in _ROUTES.items()
    ),
]
