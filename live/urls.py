from django.urls import path

from live import views

urlpatterns = [
    path("notifications", views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/<id:notification_id>",
        views.NotificationDetailView.as_view(),
        name="notification-detail",
    ),
    path(
        "notifications/<id:notification_id>/read",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
]
