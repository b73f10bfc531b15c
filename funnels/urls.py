from django.urls import path

from funnels import views

urlpatterns = [
    path("apps/<int:app_id>/config", views.ConfigView.as_view(), name="app-config"),
]
