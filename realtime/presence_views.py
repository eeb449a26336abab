"""REST endpoints of the live layer's entry points: socket tickets and who is viewing."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAuthenticatedMember
from episodes.serializers import ViewerStateSerializer
from realtime import flags, presence, tickets
from realtime.serializers import TicketSerializer
from realtime.stream_access import stream_access


class PresenceStateSerializer(serializers.Serializer):
    """Who views a resource, each `viewing` or `editing` (the schema of the answer)."""

    viewers = ViewerStateSerializer(many=True)


class TicketView(APIView):
    """A single-use ticket, valid 60 s, for `/ws/?ticket=<ticket>` where no cookie is sent."""

    permission_classes = [IsAuthenticatedMember]

    @extend_schema(request=None, responses={201: TicketSerializer})
    def post(self, request):
        ticket = tickets.ticket_issue(user=request.user)
        body = {"ticket": ticket, "expires_in": tickets.TICKET_TTL}
        return Response(body, status=status.HTTP_201_CREATED)


class PresenceView(APIView):
    """Who is viewing a resource right now, one entry per user."""

    permission_classes = [IsAuthenticatedMember]

    @extend_schema(
        responses={
            200: PresenceStateSerializer,
            404: OpenApiResponse(description="No such resource"),
        }
    )
    def get(self, request, resource_type: str, resource_id: int):
        access = stream_access(user=request.user, stream=f"{resource_type}:{resource_id}")
        if access == "not_found":
            raise NotFound()
        if access == "forbidden":
            raise PermissionDenied()
        viewers = []
        if flags.presence_tracking():
            try:
                viewers = presence.viewers_sync(resource_type, resource_id)
            except presence.PresenceUnavailable:
                return Response(
                    {"detail": "Presence is unavailable right now."},
                    status=status.HTTP_503_SERVICE_UNAVAILABLE,
                )
        return Response({"viewers": viewers})
