"""/api/v1/apps/{id}/token: issue (owner), read the snippet (viewers), rotate, revoke."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps_registry.views import AppScopedView
from tokens import services

TokenOutput = inline_serializer(
    "AppTokenOutput",
    {
        "token": serializers.CharField(),
        "snippet": serializers.CharField(),
        "epoch": serializers.IntegerField(),
        "issued_at": serializers.DateTimeField(),
    },
)


def token_body(issued: services.IssuedToken) -> dict:
    return {
        "token": issued.token,
        "snippet": issued.snippet,
        "epoch": issued.record.epoch,
        "issued_at": issued.record.issued_at,
    }


class AppTokenView(AppScopedView):
    owner_only_methods = frozenset({"POST", "DELETE"})

    @extend_schema(responses=TokenOutput)
    def get(self, request, app_id):
        return Response(token_body(services.current_token(self.get_app(app_id))))

    @extend_schema(request=None, responses={201: TokenOutput})
    def post(self, request, app_id):
        issued = services.token_issue(app=self.get_app(app_id), actor=request.user)
        return Response(token_body(issued), status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def delete(self, request, app_id):
        services.token_revoke(app=self.get_app(app_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppTokenRotateView(AppScopedView):
    owner_only_methods = frozenset({"POST"})

    @extend_schema(request=None, responses={201: TokenOutput})
    def post(self, request, app_id):
        issued = services.token_rotate(app=self.get_app(app_id), actor=request.user)
        return Response(token_body(issued), status=status.HTTP_201_CREATED)
