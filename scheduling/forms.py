"""Forms of the provider console (the Django admin).

They validate exactly like the services: the models' `clean()` (RRULEs, end after start, fees),
`scheduling.services.inputs.require_zone` for zones, and the booking services for anything about
slots and customers. Times a person types are wall-clock times in the provider's zone.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.utils import timezone
from timezone_field import TimeZoneFormField

from scheduling.admin.display import clock, local_span
from scheduling.availability import Slot, local_to_utc
from scheduling.errors import InvalidInput
from scheduling.models import AvailabilityRule, BlockedTime, CancelReason, Customer, Provider, Service
from scheduling.rule_text import rule_in_words
from scheduling.services import CustomerData
from scheduling.services.inputs import OUT_OF_RANGE, in_supported_range, require_zone
from scheduling.validators import normalise_rrule


def _zone_or_error(value: ZoneInfo | str | None, *, field: str) -> ZoneInfo | None:
    """The services' zone check (IANA names only, no fixed offsets) as a form error."""
    if value in (None, ""):
        return None
    try:
        return require_zone(str(value), field=field)
    except InvalidInput as exc:
        raise ValidationError(exc.detail, code="invalid_zone") from exc


class ProviderForm(forms.ModelForm):
    class Meta:
        model = Provider
        fields = ["name", "slug", "kind", "timezone", "is_active", "staff"]

    def clean_timezone(self):
        return _zone_or_error(self.cleaned_data.get("timezone"), field="timezone")


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "name", "slug", "description", "is_active", "providers", "duration_minutes", "slot_step_minutes",
            "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes", "max_advance_days",
            "requires_confirmation", "hold_minutes", "reminder_lead_minutes", "free_cancel_hours", "late_cancel_fee",
            "price", "currency", "payment_mode",
        ]  # fmt: skip


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["name", "email", "phone", "timezone", "user"]

    def clean_timezone(self):
        return _zone_or_error(self.cleaned_data.get("timezone"), field="timezone")


class AvailabilityRuleForm(forms.ModelForm):
    """The model's `clean()` validates the RRULE; this stores it the way the service does."""

    class Meta:
        model = AvailabilityRule
        fields = ["provider", "kind", "rrule", "starts_on", "ends_on", "start_time", "end_time", "label"]
        # Native pickers: wall-clock values with no "Now"/"Today" shortcuts (those fill the browser's
        # clock, not the provider's) and narrow enough for the inline's row to fit its box.
        widgets = {
            "rrule": forms.TextInput(attrs={"size": 28, "placeholder": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}),
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "label": forms.TextInput(attrs={"size": 14}),
        }

    def clean_rrule(self):
        return normalise_rrule(self.cleaned_data.get("rrule", ""))

    @property
    def local_label(self) -> str:
        """The saved rule in plain words (the inline's row title)."""
        if not self.instance.pk:
            return ""
        return rule_in_words(self.instance, today=timezone.now().astimezone(self.instance.provider.timezone).date())


class WallClockDateTimeField(forms.SplitDateTimeField):
    """A date and a time on a wall clock, returned naive; the form places it in the provider's zone.

    `zone` (set by the form) is the zone initial values are shown in.
    """

    widget = AdminSplitDateTime
    zone: ZoneInfo | None = None

    def compress(self, data_list):
        with timezone.override(UTC):
            value = super().compress(data_list)
        # Placing 9999-12-31 23:00 in a zone west of UTC overflows the datetime range.
        if value is not None and not in_supported_range(value):
            raise ValidationError(OUT_OF_RANGE, code="out_of_range")
        return value.replace(tzinfo=None) if value is not None else None

    def prepare_value(self, value):
        if isinstance(value, datetime) and timezone.is_aware(value) and self.zone is not None:
            return value.astimezone(self.zone).replace(tzinfo=None)
        return value

    def has_changed(self, initial, data):
        return super().has_changed(self.prepare_value(initial), data)


class BlockedTimeForm(forms.ModelForm):
    """Start and end are typed in the provider's zone and stored in UTC.

    The zone is the chosen provider's; inline on a provider page, the page's provider
    (`default_zone`, set by the inline). A repeated wall time takes its first occurrence and a
    skipped one moves forward by the gap, as for rules (ADR 0003).
    """

    default_zone: ZoneInfo | None = None

    start_at = WallClockDateTimeField(label="Start")
    end_at = WallClockDateTimeField(label="End")

    class Meta:
        model = BlockedTime
        fields = ["provider", "start_at", "end_at", "reason", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = self.instance.provider.timezone if self.instance.provider_id else self.default_zone
        for name in ("start_at", "end_at"):
            field = self.fields[name]
            field.zone = self.zone
            if self.zone:
                field.label = f"{field.label} ({self.zone.key})"
                field.help_text = f"Wall-clock time in {self.zone.key}, the provider's zone; Today/Now fill it in."
            else:
                field.help_text = "Wall-clock time in the provider's zone: choose the provider first."

    @property
    def local_label(self) -> str:
        """The saved span in the provider's zone (the inline's row title)."""
        if not self.instance.pk:
            return ""
        zone = self.instance.provider.timezone
        return f"{self.instance.get_reason_display()}: {local_span(self.instance.start_at, self.instance.end_at, zone)}"

    def clean(self):
        cleaned = super().clean()
        provider = cleaned.get("provider") or (self.instance.provider if self.instance.provider_id else None)
        zone = provider.timezone if provider else self.default_zone
        for name in ("start_at", "end_at"):
            value = cleaned.get(name)
            if value is None or timezone.is_aware(value):
                continue
            if zone is None:  # no valid provider: never let a naive time reach the model
                self.add_error(name, "Choose a provider first: this time is read in its zone.")
            else:
                cleaned[name] = local_to_utc(value.date(), value.time(), zone)
        return cleaned


class SlotField(forms.ChoiceField):
    """One of the engine's free starts, as an aware instant.

    Any aware ISO 8601 value passes here: the booking service is the judge, so a slot taken since
    the page was drawn comes back as its conflict, not as "not one of the available choices".
    """

    def valid_value(self, value) -> bool:
        return True

    def clean(self, value) -> datetime:
        text = super().clean(value)
        try:
            start = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError("Pick one of the free slots.", code="invalid_slot") from exc
        if timezone.is_naive(start):
            raise ValidationError("Pick one of the free slots.", code="invalid_slot")
        return start


class BookedCustomerField(forms.ModelChoiceField):
    """Customers as `selectors.customers_to_book_again` gives them: named by a booking's details."""

    def label_from_instance(self, obj) -> str:
        phone = f" · {obj.booked_phone}" if obj.booked_phone else ""
        return f"{obj.booked_name} <{obj.booked_email}>{phone}"


class BookingCreateForm(forms.Form):
    """The last step of the admin's booking flow: a free slot of the chosen service with the chosen
    provider, then an existing or a new customer."""

    slot = SlotField(widget=forms.RadioSelect, label="Free slot")
    customer_search = forms.CharField(
        required=False,
        max_length=100,
        label="Find an existing customer",
        help_text="Part of the name, email or phone of someone who booked before.",
    )
    # Offered: only the matches of the search (never every customer); accepted: any of `customers`.
    customer = BookedCustomerField(
        queryset=Customer.objects.none(),
        required=False,
        label="Existing customer",
        widget=forms.RadioSelect,
        blank=True,
        empty_label="A new customer (below)",
    )
    name = forms.CharField(required=False, max_length=200, label="New customer's name")
    email = forms.EmailField(required=False, label="New customer's email")
    phone = forms.CharField(required=False, max_length=32, label="New customer's phone")
    timezone = TimeZoneFormField(required=False, label="New customer's time zone")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 40}))
    # Asked, not guessed from the console's own language: staff may book for a customer of another.
    language = forms.ChoiceField(
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,
        label="Customer's language",
        help_text="Confirmations and reminders to the customer are written in it.",
    )

    # Where the booking services name a field, and which field of this form shows it.
    SERVICE_FIELDS = {
        "start": "slot",
        "customer.name": "name",
        "customer.email": "email",
        "customer.phone": "phone",
        "customer.timezone": "timezone",
        "notes": "notes",
    }

    def __init__(self, *args, provider: Provider, service: Service, slots: list[Slot], customers, matches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.service = service
        zone = provider.timezone
        self.fields["slot"].choices = [
            (slot.start.astimezone(UTC).isoformat(), f"{clock(slot.start, zone)}–{clock(slot.end, zone)}")
            for slot in slots
        ]
        field = self.fields["customer"]
        field.queryset = customers
        field.widget.choices = [("", field.empty_label), *((c.pk, field.label_from_instance(c)) for c in matches)]
        self.fields["timezone"].initial = zone.key
        self.fields["timezone"].help_text = "Confirmations and reminders show times in this zone."

    def clean_timezone(self):
        return _zone_or_error(self.cleaned_data.get("timezone"), field="timezone")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("customer") and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", "Pick an existing customer, or enter the new customer's email.")
        return cleaned

    def customer_input(self) -> CustomerData:
        data = self.cleaned_data
        if chosen := data.get("customer"):  # from `customers_to_book_again`: a booking's details, not the record's
            return CustomerData(
                name=chosen.booked_name,
                email=chosen.booked_email,
                phone=chosen.booked_phone,
                timezone=str(chosen.booked_timezone),
            )
        zone = data.get("timezone") or self.provider.timezone
        return CustomerData(name=data["name"], email=data["email"], phone=data["phone"], timezone=zone.key)

    def add_service_error(self, exc: InvalidInput) -> None:
        """Show a service's InvalidInput (or SlotNotOffered) on the fields it names."""
        if not exc.fields:
            self.add_error(None, exc.detail)
            return
        for name, messages in exc.fields.items():
            self.add_error(self.SERVICE_FIELDS.get(name), list(messages))


class CancelBookingForm(forms.Form):
    REASONS = [
        (CancelReason.PROVIDER.value, "The provider cancels (never a fee)"),
        (CancelReason.CUSTOMER.value, "The customer cancels (a late cancellation costs the late fee)"),
    ]

    reason = forms.ChoiceField(choices=REASONS, widget=forms.RadioSelect, initial=CancelReason.PROVIDER)
