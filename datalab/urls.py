from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from datalab import views

handler404 = "datalab.errors.json_404"
handler500 = "datalab.errors.json_500"

api_v1 = [
    path("", include("orgs.urls")),
    path("", include("apps_registry.urls")),
    path("", include("funnels.urls")),
    path("", include("tokens.urls")),
    path("", include("ingest.urls")),
    path("", include("live.urls")),
    path("", include("insights.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("healthz", views.healthz, name="healthz"),
    path("demo/", include("demo.urls")),
    # The dashboard's routes (history mode): every other path answers the single-page app,
    # which shows its own "not found". /api/, /admin/, /static/, /ws/ keep their answers.
    re_path(r"^(?!api/|admin/|static/|ws/|healthz$|demo/)", views.dashboard, name="dashboard"),
]
