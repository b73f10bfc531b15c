"""REST endpoints for apps, members and invitations. Thin: look up, check, call a service."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps_registry import selectors, services
from apps_registry.models import Invite, RetiredPartition
from apps_registry.permissions import IsAppOwner
from apps_registry.serializers import (
    AppCreateInput,
    AppOutput,
    AppUpdateInput,
    InviteCreateInput,
    InviteOutput,
    MemberOutput,
    TransferInput,
)
from datalab.errors import NotFound


class AppScopedView(APIView):
    """Resolves `app_id` to an app the user may see (404 otherwise)."""

    owner_only_methods: frozenset[str] = frozenset()

    def get_app(self, app_id):
        app = selectors.app_visible_to(self.request.user, app_id)
        if self.request.method in self.owner_only_methods:
            self.check_object_permissions(self.request, app)
        return app

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.request.method in self.owner_only_methods:
            permissions.append(IsAppOwner())
        return permissions

    def app_body(self, app) -> dict:
        fresh = selectors.app_visible_to(self.request.user, app.pk)
        return AppOutput(fresh, context={"request": self.request}).data


class AppListView(APIView):
    @extend_schema(responses=AppOutput(many=True))
    def get(self, request):
        apps = selectors.apps_visible_to(request.user)
        return Response(AppOutput(apps, many=True, context={"request": request}).data)

    @extend_schema(request=AppCreateInput, responses={201: AppOutput})
    def post(self, request):
        serializer = AppCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        app = services.app_create(owner=request.user, **serializer.validated_data)
        body = AppOutput(
            selectors.app_visible_to(request.user, app.pk), context={"request": request}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class AppDetailView(AppScopedView):
    owner_only_methods = frozenset({"PATCH", "DELETE"})

    @extend_schema(responses=AppOutput)
    def get(self, request, app_id):
        return Response(self.app_body(self.get_app(app_id)))

    @extend_schema(request=AppUpdateInput, responses=AppOutput)
    def patch(self, request, app_id):
        app = self.get_app(app_id)
        serializer = AppUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.app_update(app=app, actor=request.user, **serializer.validated_data)
        return Response(self.app_body(app))

    @extend_schema(responses={204: None})
    def delete(self, request, app_id):
        services.app_delete(app=self.get_app(app_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppUnlockView(AppScopedView):
    owner_only_methods = frozenset({"POST"})

    @extend_schema(request=None, responses=AppOutput)
    def post(self, request, app_id):
        app = services.app_unlock(app=self.get_app(app_id), actor=request.user)
        return Response(self.app_body(app))


class AppTransferView(AppScopedView):
    owner_only_methods = frozenset({"POST"})

    @extend_schema(request=TransferInput, responses=AppOutput)
    def post(self, request, app_id):
        app = self.get_app(app_id)
        serializer = TransferInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.app_transfer(
            app=app, actor=request.user, new_owner_id=serializer.validated_data["user_id"]
        )
        return Response(self.app_body(app))


class ArchivedEpochOutput(serializers.ModelSerializer):
    events = serializers.IntegerField(source="archived_events", allow_null=True)
    path = serializers.CharField(source="archive_path")

    class Meta:
        model = RetiredPartition
        fields = ["epoch", "reason", "retired_at", "archived_at", "events", "path", "deleted_at"]


class AppArchiveListView(AppScopedView):
    """The app's retired epochs: when each was archived, how many events, where; `deleted_at`
    says whether its events left the store (docs/archiving.md). Viewers of the app."""

    @extend_schema(responses=ArchivedEpochOutput(many=True))
    def get(self, request, app_id):
        app = self.get_app(app_id)
        partitions = RetiredPartition.objects.filter(app_ref=app.pk).order_by("epoch")
        return Response(ArchivedEpochOutput(partitions, many=True).data)


class MemberListView(AppScopedView):
    @extend_schema(responses=MemberOutput(many=True))
    def get(self, request, app_id):
        app = self.get_app(app_id)
        members = MemberOutput(selectors.members_of(app), many=True).data
        body = {"owner": AppOutput(app, context={"request": request}).data["owner"]}
        body["members"] = members
        if app.is_owner(request.user):
            body["pending"] = InviteOutput(selectors.pending_invites_of(app), many=True).data
        return Response(body)


class MemberDetailView(AppScopedView):
    """DELETE: the owner removes a member, or a member leaves (their own id); the service
    decides (permissions.can_remove_member)."""

    @extend_schema(responses={204: None})
    def delete(self, request, app_id, user_id):
        services.member_remove(app=self.get_app(app_id), actor=request.user, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppInviteListView(AppScopedView):
    owner_only_methods = frozenset({"POST"})

    @extend_schema(request=InviteCreateInput, responses={201: InviteOutput})
    def post(self, request, app_id):
        app = self.get_app(app_id)
        serializer = InviteCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        invite = services.invite_create(app=app, actor=request.user, **serializer.validated_data)
        return Response(InviteOutput(invite).data, status=status.HTTP_201_CREATED)


class AppInviteMixin(AppScopedView):
    owner_only_methods = frozenset({"POST", "DELETE"})

    def get_invite(self, app_id, invite_id) -> Invite:
        app = self.get_app(app_id)
        invite = app.invites.select_related("app").filter(pk=invite_id).first()
        if invite is None:
            raise NotFound("No such invitation.")
        return invite


class AppInviteRemindView(AppInviteMixin):
    @extend_schema(request=None, responses=InviteOutput)
    def post(self, request, app_id, invite_id):
        invite = services.invite_remind(
            invite=self.get_invite(app_id, invite_id), actor=request.user
        )
        return Response(InviteOutput(invite).data)


class AppInviteDetailView(AppInviteMixin):
    @extend_schema(responses={204: None})
    def delete(self, request, app_id, invite_id):
        services.invite_revoke(invite=self.get_invite(app_id, invite_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyInviteListView(APIView):
    @extend_schema(responses=InviteOutput(many=True))
    def get(self, request):
        return Response(InviteOutput(selectors.invites_for(request.user), many=True).data)


class MyInviteAcceptView(APIView):
    @extend_schema(request=None, responses=InviteOutput)
    def post(self, request, invite_id):
        invite = selectors.invite_for_invitee(request.user, invite_id)
        return Response(InviteOutput(services.invite_accept(invite=invite, user=request.user)).data)


class MyInviteRejectView(APIView):
    @extend_schema(request=None, responses=InviteOutput)
    def post(self, request, invite_id):
        invite = selectors.invite_for_invitee(request.user, invite_id)
        return Response(InviteOutput(services.invite_reject(invite=invite, user=request.user)).data)
