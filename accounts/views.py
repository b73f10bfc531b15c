"""Login, token refresh and logout."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import LoginInput, LogoutInput, RefreshInput, TokenPairOutput


def _pair(pair: services.TokenPair) -> dict:
    return {"access": pair.access, "refresh": pair.refresh}


class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_login"

    @extend_schema(request=LoginInput, responses=TokenPairOutput)
    def post(self, request):
        serializer = LoginInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(_pair(services.auth_login(**serializer.validated_data)))


class RefreshView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RefreshInput, responses=TokenPairOutput)
    def post(self, request):
        serializer = RefreshInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(_pair(services.auth_refresh(**serializer.validated_data)))


class LogoutView(APIView):
    """Revoke the session of the refresh token given, or of the access token used."""

    permission_classes = [AllowAny]

    @extend_schema(request=LogoutInput, responses={204: None})
    def post(self, request):
        serializer = LogoutInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        refresh = serializer.validated_data.get("refresh")
        if refresh:
            session_id = services.session_of_refresh_token(refresh)
        elif request.auth is not None:
            session_id = request.auth.session_id
        else:
            raise services.NotAuthenticated()
        services.auth_logout(session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
