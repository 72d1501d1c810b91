"""A provider's calendar connections over the API (docs/decisions/0015-calendar-sync.md): staff of that
provider only (404 for everyone else), with the calendar-connection permissions. Credentials are
write-only: they are never answered back."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from calendars import services
from calendars.models import CalendarConnection
from calendars.selectors import shown_url
from scheduling.api import access
from scheduling.api.permissions import model_permission
from scheduling.api.schema import errors
from scheduling.errors import InvalidInput


class CalendarConnectionSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(
        choices=CalendarConnection.Kind.choices,
        default=CalendarConnection.Kind.ICAL_URL,
        help_text="Fixed once made. `ical_url` reads a calendar's iCal address; `caldav`, `google` and "
        "`microsoft` read busy times and write bookings to the calendar.",
    )
    url = serializers.URLField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="The calendar's address: its iCal URL (`ical_url`) or its CalDAV collection (`caldav`), "
        "without a user name or password in it. An iCal URL is itself the secret that reads the calendar: it is "
        "answered masked (`https://host/…` and its last 4 characters); sending the masked form back changes "
        "nothing.",
    )
    account = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text="The user at the calendar service, or the calendar's id (`google`, `microsoft`).",
    )
    credentials = serializers.DictField(
        write_only=True,
        required=False,
        help_text='Write-only, never answered back: `{"username", "password"}` for CalDAV, '
        '`{"refresh_token"}` for Google and Microsoft.',
    )
    sync_every_minutes = serializers.IntegerField(min_value=1, max_value=1440, default=10)

    class Meta:
        model = CalendarConnection
        fields = [
            "id", "kind", "name", "url", "account", "credentials", "is_active", "sync_every_minutes", "last_synced_at",
            "last_error", "last_error_at", "next_sync_at",
        ]  # fmt: skip
        read_only_fields = ["last_synced_at", "last_error", "last_error_at", "next_sync_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["url"] = shown_url(instance)
        return data


class SyncResultSerializer(serializers.Serializer):
    read = serializers.IntegerField(help_text="Busy times the calendar holds over the provider's horizon.")
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    kept = serializers.IntegerField()
    not_modified = serializers.BooleanField(help_text="The calendar answered 304: nothing read, nothing changed.")
    error = serializers.CharField(help_text="Why the sync failed (the previous busy times stay), or empty.")
    superseded = serializers.BooleanField(
        help_text="Nothing was written: the connection was changed, removed or synced by another sync meanwhile."
    )


def _invalid(exc: ValidationError) -> InvalidInput:
    return InvalidInput.from_validation_error(exc)


def _connection(user, pk: int, connection_id: int) -> CalendarConnection:
    provider = access.managed_provider(user, pk)
    return get_object_or_404(CalendarConnection, pk=connection_id, provider=provider)


class _ConnectionApi(APIView):
    permission_classes = [model_permission(CalendarConnection)]


class CalendarConnectionListApi(_ConnectionApi):
    @extend_schema(responses={200: CalendarConnectionSerializer(many=True), **errors()}, tags=["calendar connections"])
    def get(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        connections = CalendarConnection.objects.filter(provider=provider).order_by("pk")
        return Response(CalendarConnectionSerializer(connections, many=True).data)

    @extend_schema(
        request=CalendarConnectionSerializer,
        responses={201: CalendarConnectionSerializer, **errors(400)},
        tags=["calendar connections"],
    )
    def post(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        data = CalendarConnectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        try:
            connection = services.calendar_connection_create(
                provider=provider,
                kind=given["kind"],
                url=given.get("url", ""),
                account=given.get("account", ""),
                credentials=given.get("credentials"),
                name=given.get("name", ""),
                sync_every_minutes=given["sync_every_minutes"],
            )
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return Response(CalendarConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)


class CalendarConnectionDetailApi(_ConnectionApi):
    @extend_schema(responses={200: CalendarConnectionSerializer, **errors()}, tags=["calendar connections"])
    def get(self, request, pk: int, connection_id: int):
        return Response(CalendarConnectionSerializer(_connection(request.user, pk, connection_id)).data)

    @extend_schema(
        request=CalendarConnectionSerializer,
        responses={200: CalendarConnectionSerializer, **errors(400)},
        tags=["calendar connections"],
    )
    def patch(self, request, pk: int, connection_id: int):
        connection = _connection(request.user, pk, connection_id)
        data = CalendarConnectionSerializer(connection, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if data.validated_data.get("kind", connection.kind) != connection.kind:
            raise InvalidInput("A connection's kind cannot change; make a new connection.", field="kind")
        try:
            connection = services.calendar_connection_update(connection=connection, **data.validated_data)
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return Response(CalendarConnectionSerializer(connection).data)

    @extend_schema(responses={204: None, **errors()}, tags=["calendar connections"])
    def delete(self, request, pk: int, connection_id: int):
        services.calendar_connection_delete(connection_id=_connection(request.user, pk, connection_id).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarConnectionSyncApi(_ConnectionApi):
    permission_classes = [model_permission(CalendarConnection, POST=("change",))]

    @extend_schema(
        request=None,
        responses={200: SyncResultSerializer, **errors()},
        tags=["calendar connections"],
        operation_id="calendar_connections_sync",
        description="Syncs now and answers what happened. A failed sync (the calendar down, a bad file, an "
        "address that is refused) is still a 200, with `error` set; the previous busy times stay.",
    )
    def post(self, request, pk: int, connection_id: int):
        connection = _connection(request.user, pk, connection_id)
        result = services.calendar_connection_sync(connection_id=connection.pk)
        return Response(SyncResultSerializer(result).data)
