"""Small bases shared by every app's REST layer."""

from __future__ import annotations

from rest_framework import serializers


class InputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know, instead of ignoring them."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["Unknown field."] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                exc.detail.update(errors)
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value
