from django.urls import path

from apps_registry import views

urlpatterns = [
    path("apps", views.AppListView.as_view(), name="app-list"),
    path("apps/<id:app_id>", views.AppDetailView.as_view(), name="app-detail"),
    path("apps/<id:app_id>/unlock", views.AppUnlockView.as_view(), name="app-unlock"),
    path("apps/<id:app_id>/transfer", views.AppTransferView.as_view(), name="app-transfer"),
    path("apps/<id:app_id>/archives", views.AppArchiveListView.as_view(), name="app-archives"),
    path("apps/<id:app_id>/members", views.MemberListView.as_view(), name="app-members"),
    path(
        "apps/<id:app_id>/members/<id:user_id>",
        views.MemberDetailView.as_view(),
        name="app-member",
    ),
    path("apps/<id:app_id>/invites", views.AppInviteListView.as_view(), name="app-invites"),
    path(
        "apps/<id:app_id>/invites/<id:invite_id>",
        views.AppInviteDetailView.as_view(),
        name="app-invite",
    ),
    path(
        "apps/<id:app_id>/invites/<id:invite_id>/remind",
        views.AppInviteRemindView.as_view(),
        name="app-invite-remind",
    ),
    path("invites", views.MyInviteListView.as_view(), name="my-invites"),
    path("invites/<id:invite_id>/accept", views.MyInviteAcceptView.as_view(), name="invite-accept"),
    path("invites/<id:invite_id>/reject", views.MyInviteRejectView.as_view(), name="invite-reject"),
]
