from rest_framework import serializers

from accounts.serializers import UserOutput
from datalab.api import InputSerializer
from orgs.models import Organization


class RegisterInput(InputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    organization = serializers.CharField(max_length=253)


class VerifyInput(InputSerializer):
    token = serializers.CharField(max_length=1024)


class ResendInput(InputSerializer):
    email = serializers.EmailField(max_length=254)


class OrganizationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "domain", "name", "created_at"]


class MeOutput(UserOutput):
    organization = serializers.SerializerMethodField()
    verified = serializers.SerializerMethodField()

    class Meta(UserOutput.Meta):
        fields = [*UserOutput.Meta.fields, "organization", "verified"]

    def _membership(self, user):
        return getattr(user, "membership", None)

    def get_organization(self, user) -> dict | None:
        membership = self._membership(user)
        if membership is None:
            return None
        return {"domain": membership.organization.domain, "name": membership.organization.name}

    def get_verified(self, user) -> bool:
        membership = self._membership(user)
        return bool(membership and membership.is_verified)
