"""Registration, e-mail verification, the profile and the organization page."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services as account_services
from accounts.serializers import ProfileInput, UserOutput
from datalab.errors import Forbidden
from orgs import selectors, services
from orgs.serializers import (
    MeOutput,
    OrganizationOutput,
    RegisterInput,
    ResendInput,
    VerifyInput,
)


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_register"

    @extend_schema(request=RegisterInput, responses={201: MeOutput})
    def post(self, request):
        serializer = RegisterInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        registration = services.user_register(**serializer.validated_data)
        body = MeOutput(registration.user).data
        body["verification_required"] = registration.verification_sent
        return Response(body, status=status.HTTP_201_CREATED)


class VerifyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=VerifyInput, responses=MeOutput)
    def post(self, request):
        serializer = VerifyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.email_verify(**serializer.validated_data)
        return Response(MeOutput(user).data)


class ResendVerificationView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_register"

    @extend_schema(request=ResendInput, responses={202: None})
    def post(self, request):
        serializer = ResendInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.verification_resend(**serializer.validated_data)
        return Response(status=status.HTTP_202_ACCEPTED)


class MeView(APIView):
    @extend_schema(responses=MeOutput)
    def get(self, request):
        return Response(MeOutput(request.user).data)

    @extend_schema(request=ProfileInput, responses=MeOutput)
    def patch(self, request):
        serializer = ProfileInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = account_services.profile_update(user=request.user, **serializer.validated_data)
        return Response(MeOutput(user).data)


class OrganizationView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "OrganizationPage",
            {"organization": OrganizationOutput(), "colleagues": UserOutput(many=True)},
        )
    )
    def get(self, request):
        organization = selectors.organization_of(request.user)
        if organization is None:
            raise Forbidden(
                "Confirm your e-mail address to see your organization.", code="not_verified"
            )
        return Response(
            {
                "organization": OrganizationOutput(organization).data,
                "colleagues": UserOutput(selectors.colleagues_of(request.user), many=True).data,
            }
        )


class ColleagueSearchView(APIView):
    """GET /api/v1/org/colleagues?search=ann: verified colleagues to invite (20 at most)."""

    @extend_schema(
        parameters=[OpenApiParameter("search", str, required=False)],
        responses=UserOutput(many=True),
    )
    def get(self, request):
        if selectors.organization_of(request.user) is None:
            raise Forbidden(
                "Confirm your e-mail address to see your organization.", code="not_verified"
            )
        search = request.query_params.get("search", "")[:100]
        return Response(
            UserOutput(selectors.colleagues_matching(request.user, search), many=True).data
        )
