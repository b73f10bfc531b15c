"""GET/PUT /api/v1/apps/{id}/config"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps_registry.selectors import app_visible_to
from datalab.api import InputSerializer
from funnels import services
from funnels.selectors import configuration_of


class ConfigInput(InputSerializer):
    version = serializers.IntegerField(min_value=1)
    funnel = serializers.JSONField(required=False)
    campaigns = serializers.JSONField(required=False)
    elements = serializers.JSONField(required=False)
    locked = serializers.BooleanField(required=False)  # echoed back by clients; ignored


def config_body(app, configuration) -> dict:
    return {"version": configuration.version, "locked": app.locked, **configuration.data}


class ConfigView(APIView):
    @extend_schema(responses=dict)
    def get(self, request, app_id):
        app = app_visible_to(request.user, app_id)
        return Response(config_body(app, configuration_of(app)))

    @extend_schema(request=ConfigInput, responses=dict)
    def put(self, request, app_id):
        app = app_visible_to(request.user, app_id)
        serializer = ConfigInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        data.pop("locked", None)
        configuration = services.config_update(
            app=app, actor=request.user, data=data, version=version
        )
        app.refresh_from_db()
        return Response(config_body(app, configuration))
