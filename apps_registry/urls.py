from django.urls import path

from apps_registry import views

urlpatterns = [
    path("apps", views.AppListView.as_view(), name="app-list"),
    path("apps/<int:app_id>", views.AppDetailView.as_view(), name="app-detail"),
    path("apps/<int:app_id>/unlock", views.AppUnlockView.as_view(), name="app-unlock"),
    path("apps/<int:app_id>/transfer", views.AppTransferView.as_view(), name="app-transfer"),
    path("apps/<int:app_id>/archives", views.AppArchiveListView.as_view(), name="app-archives"),
    path("apps/<int:app_id>/members", views.MemberListView.as_view(), name="app-members"),
    path(
        "apps/<int:app_id>/members/<int:user_id>",
        views.MemberDetailView.as_view(),
        name="app-member",
    ),
    path("apps/<int:app_id>/invites", views.AppInviteListView.as_view(), name="app-invites"),
    path(
        "apps/<int:app_id>/invites/<int:invite_id>",
        views.AppInviteDetailView.as_view(),
        name="app-invite",
    ),
    path(
        "apps/<int:app_id>/invites/<int:invite_id>/remind",
        views.AppInviteRemindView.as_view(),
        name="app-invite-remind",
    ),
    path("invites", views.MyInviteListView.as_view(), name="my-invites"),
    path(
        "invites/<int:invite_id>/accept", views.MyInviteAcceptView.as_view(), name="invite-accept"
    ),
    path(
        "invites/<int:invite_id>/reject", views.MyInviteRejectView.as_view(), name="invite-reject"
    ),
]
