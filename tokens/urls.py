from django.urls import path

from tokens import views

urlpatterns = [
    path("apps/<id:app_id>/token", views.AppTokenView.as_view(), name="app-token"),
    path(
        "apps/<id:app_id>/token/rotate",
        views.AppTokenRotateView.as_view(),
        name="app-token-rotate",
    ),
]
