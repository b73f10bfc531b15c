from django.urls import path

from funnels import views

urlpatterns = [
    path("apps/<id:app_id>/config", views.ConfigView.as_view(), name="app-config"),
]
