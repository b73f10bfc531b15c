from rest_framework import serializers

from accounts.models import User
from datalab.api import InputSerializer


class LoginInput(InputSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class RefreshInput(InputSerializer):
    refresh = serializers.CharField(max_length=2048)


class LogoutInput(InputSerializer):
    refresh = serializers.CharField(max_length=2048, required=False)


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class ProfileInput(InputSerializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    position = serializers.CharField(max_length=150, required=False, allow_blank=True)


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "position"]
