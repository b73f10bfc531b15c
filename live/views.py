"""REST endpoints for notifications (the websocket offers the same actions)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from live import selectors, services
from live.serializers import NotificationOutput

LIST_SIZE = 200


class NotificationListView(APIView):
    @extend_schema(responses=NotificationOutput(many=True))
    def get(self, request):
        """The user's notifications that are not hidden, newest first."""
        notifications = selectors.notifications_for(request.user)[:LIST_SIZE]
        return Response(NotificationOutput(notifications, many=True).data)

    @extend_schema(operation_id="v1_notifications_clear", responses={204: None})
    def delete(self, request):
        """Clear: hide every notification of the user."""
        services.notifications_hide(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationReadView(APIView):
    @extend_schema(request=None, responses=NotificationOutput)
    def post(self, request, notification_id):
        notification = selectors.notification_of(request.user, notification_id)
        services.notifications_mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(NotificationOutput(notification).data)


class NotificationDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, notification_id):
        """Hide the notification (it leaves the list and the backlog)."""
        notification = selectors.notification_of(request.user, notification_id)
        services.notifications_hide(user=request.user, ids=[notification.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)
