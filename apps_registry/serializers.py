from rest_framework import serializers

from apps_registry.models import App, Invite
from datalab.api import InputSerializer


class AppCreateInput(InputSerializer):
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=32), max_length=5)
    is_public = serializers.BooleanField(required=False, default=False)
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")
    allow_visitor_id = serializers.BooleanField(required=False, default=False)


class AppUpdateInput(AppCreateInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class AppOutput(serializers.ModelSerializer):
    owner = PersonOutput()
    origin = serializers.CharField()
    locked = serializers.BooleanField()
    role = serializers.SerializerMethodField()
    can = serializers.SerializerMethodField()

    class Meta:
        model = App
        fields = [
            "id",
            "name",
            "url",
            "origin",
            "description",
            "tags",
            "is_public",
            "timezone",
            "allow_visitor_id",
            "locked",
            "locked_at",
            "epoch",
            "owner",
            "created_at",
            "role",
            "can",
        ]

    def _viewer(self):
        return self.context["request"].user

    def get_role(self, app) -> str:
        viewer = self._viewer()
        if app.is_owner(viewer):
            return "owner"
        member = getattr(app, "viewer_is_member", None)
        if member is None:
            member = app.is_member(viewer)
        return "member" if member else "colleague"

    def get_can(self, app) -> dict:
        owner = app.is_owner(self._viewer())
        return {
            "view": True,
            "edit_config": not app.locked,
            "manage": owner,
            "issue_token": owner,
            "unlock": owner and app.locked,
            "invite": owner and not app.is_public,
            "delete": owner,
            # A member removes themselves (permissions.can_remove_member); the owner cannot.
            "leave": self.get_role(app) == "member",
        }


class InviteCreateInput(InputSerializer):
    user_id = serializers.IntegerField(required=False)
    email = serializers.EmailField(required=False)

    def validate(self, attrs):
        if ("user_id" in attrs) == ("email" in attrs):
            raise serializers.ValidationError("Give either user_id or email.")
        return attrs


class TransferInput(InputSerializer):
    user_id = serializers.IntegerField()


class InviteOutput(serializers.ModelSerializer):
    invitee = PersonOutput()
    invited_by = PersonOutput(allow_null=True)
    app = serializers.SerializerMethodField()
    expired = serializers.SerializerMethodField()

    class Meta:
        model = Invite
        fields = [
            "id",
            "app",
            "invitee",
            "invited_by",
            "status",
            "created_at",
            "expires_at",
            "expired",
            "responded_at",
            "last_reminded_at",
        ]

    def get_app(self, invite) -> dict:
        return {"id": invite.app_id, "name": invite.app.name, "url": invite.app.url}

    def get_expired(self, invite) -> bool:
        return invite.is_expired()


class MemberOutput(serializers.Serializer):
    user = PersonOutput(source="invitee")
    since = serializers.DateTimeField(source="responded_at")
