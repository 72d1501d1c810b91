import re

import pytest
import yaml

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/providers/": {"get", "post"},
    "/api/v1/providers/{id}/": {"get", "patch", "delete"},
    "/api/v1/providers/{id}/availability-rules/": {"get", "post"},
    "/api/v1/providers/{id}/availability-rules/{rule_id}/": {"get", "patch", "delete"},
    "/api/v1/providers/{id}/blocked-times/": {"get", "post"},
    "/api/v1/providers/{id}/blocked-times/{blocked_id}/": {"get", "delete"},
    "/api/v1/providers/{id}/slots/": {"get"},
    "/api/v1/providers/{id}/calendar-connections/": {"get", "post"},
    "/api/v1/providers/{id}/calendar-connections/{connection_id}/": {"get", "patch", "delete"},
    "/api/v1/providers/{id}/calendar-connections/{connection_id}/sync/": {"post"},
    "/api/v1/services/": {"get", "post"},
    "/api/v1/services/{id}/": {"get", "patch", "delete"},
    "/api/v1/services/{id}/slots/": {"get"},
    "/api/v1/bookings/": {"get", "post"},
    "/api/v1/bookings/{id}/": {"get"},
    "/api/v1/bookings/{id}/confirm/": {"post"},
    "/api/v1/bookings/{id}/cancel/": {"post"},
    "/api/v1/bookings/{id}/complete/": {"post"},
    "/api/v1/bookings/{id}/no-show/": {"post"},
    "/api/v1/bookings/{id}/reschedule/": {"post"},
    "/api/v1/bookings/{id}/refund/": {"post"},
    "/api/v1/waitlist/": {"get", "post"},
    "/api/v1/waitlist/{id}/": {"get"},
    "/api/v1/waitlist/{id}/accept/": {"post"},
    "/api/v1/waitlist/{id}/decline/": {"post"},
    "/api/v1/waitlist/{id}/withdraw/": {"post"},
    "/api/v1/webhooks/": {"get", "post"},
    "/api/v1/webhooks/{id}/": {"get", "patch", "delete"},
    "/api/v1/webhooks/{id}/ping/": {"post"},
    "/api/v1/webhooks/{id}/rotate-secret/": {"post"},
    "/api/v1/webhooks/{id}/enable/": {"post"},
    "/api/v1/webhooks/{id}/disable/": {"post"},
    "/api/v1/webhooks/{id}/deliveries/": {"get"},
    "/api/v1/webhooks/{id}/deliveries/replay/": {"post"},
    "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay/": {"post"},
    "/api/v1/public/services/": {"get"},
    "/api/v1/public/services/{id}/slots/": {"get"},
    "/api/v1/public/bookings/": {"post"},
    "/api/v1/public/bookings/{token}/": {"get"},
    "/api/v1/public/bookings/{token}/cancel/": {"post"},
    "/api/v1/public/bookings/{token}/reschedule/": {"post"},
}


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_describes_every_endpoint(schema):
    described = {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()}
    assert described == ENDPOINTS


def test_the_schema_generates_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)


def test_operation_ids_are_unique_and_unsuffixed(schema):
    ids = [
        operation["operationId"]
        for ops in schema["paths"].values()
        for m, operation in ops.items()
        if m != "parameters"
    ]
    assert len(ids) == len(set(ids))
    assert {"bookings_list", "bookings_retrieve", "bookings_create"} <= set(ids)


def test_every_operation_documents_its_error_bodies(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "404"} <= responses.keys(), (method, path)
            error = responses["404"]["content"]["application/json"]["schema"]["$ref"]
            assert error.endswith("/Error"), (method, path)


def test_booking_post_documents_the_idempotency_key_and_its_outcomes(schema):
    post = schema["paths"]["/api/v1/bookings/"]["post"]
    headers = [p for p in post["parameters"] if p["in"] == "header"]
    assert [h["name"] for h in headers] == ["Idempotency-Key"]
    assert {"201", "400", "409", "422"} <= post["responses"].keys()
    conflict = post["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert conflict.endswith("/Conflict")
    assert "conflicting_booking_id" in schema["components"]["schemas"]["Conflict"]["properties"]


def test_swagger_ui_is_served_offline(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "http://" not in html and "https://" not in html


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/bookings/abc/", "/api/v1/bookings/1%0A2/"])
def test_unknown_api_paths_answer_json_404(client, path):
    response = client.post(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_rule_times_are_declared_as_the_hh_mm_strings_they_are(schema):
    for component in ("AvailabilityRule", "AvailabilityRuleRequest"):
        start_time = schema["components"]["schemas"][component]["properties"]["start_time"]
        assert "format" not in start_time
        assert re.fullmatch(start_time["pattern"].strip("^$"), "09:30")
        assert not re.fullmatch(start_time["pattern"].strip("^$"), "24:00")


def test_every_declared_path_parameter_is_in_its_path(schema):
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    assert f"{{{parameter['name']}}}" in path, (path, parameter["name"])


def test_decimal_patterns_need_a_digit_and_refuse_a_sign_where_negatives_are_refused(schema):
    price = schema["components"]["schemas"]["ProviderRequest"]["properties"]["price"]["pattern"]
    for accepted in ("0", "40", "40.5", "40.50", ".5", "12345678.12"):
        assert re.search(price, accepted), accepted
    for refused in ("", "-", ".", "-3.00", "1.234", "123456789"):
        assert not re.search(price, refused), refused


def test_a_cancel_request_declares_only_the_reasons_the_api_accepts(schema):
    ref = schema["components"]["schemas"]["CancelRequest"]["properties"]["reason"]["$ref"]
    enum = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["enum"]
    assert sorted(enum) == ["customer", "payment_failed", "provider"]


DEPRECATED_PROVIDER_FIELDS = [
    "slot_minutes", "slot_step_minutes", "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes",
    "max_advance_days", "requires_confirmation", "hold_minutes", "reminder_lead_minutes", "free_cancel_hours",
    "late_cancel_fee", "price", "currency",
]  # fmt: skip


@pytest.mark.parametrize("component", ["Provider", "ProviderRequest", "PatchedProviderRequest"])
def test_the_providers_booking_settings_are_deprecated_in_favour_of_services(schema, component):
    properties = schema["components"]["schemas"][component]["properties"]
    deprecated = sorted(name for name, field in properties.items() if field.get("deprecated"))
    assert deprecated == sorted(DEPRECATED_PROVIDER_FIELDS)
    for name in DEPRECATED_PROVIDER_FIELDS:
        assert "/api/v1/services/" in properties[name]["description"], name


def test_the_deprecated_provider_fields_keep_their_types(schema):
    properties = schema["components"]["schemas"]["ProviderRequest"]["properties"]
    types = {name: (properties[name].get("type"), properties[name].get("nullable", False)) for name in properties}
    assert types["slot_minutes"] == ("integer", False)
    assert types["slot_step_minutes"] == ("integer", True)
    assert types["requires_confirmation"] == ("boolean", False)
    assert types["reminder_lead_minutes"] == ("array", False)
    assert types["price"] == ("string", False) and properties["price"]["format"] == "decimal"
    assert (properties["slot_minutes"]["minimum"], properties["slot_minutes"]["maximum"]) == (5, 1440)
    assert not set(schema["components"]["schemas"]["ProviderRequest"].get("required", [])) & set(
        DEPRECATED_PROVIDER_FIELDS
    )


def test_a_provider_lists_its_services_read_only(schema):
    provider = schema["components"]["schemas"]["Provider"]["properties"]["services"]
    assert provider["readOnly"] and provider["items"]["type"] == "integer"
    assert "services" not in schema["components"]["schemas"]["ProviderRequest"]["properties"]


def test_a_booking_is_made_by_service_or_provider_and_shows_its_service(schema):
    request = schema["components"]["schemas"]["BookingCreateRequest"]
    assert {"service", "provider"} <= request["properties"].keys()
    assert not {"service", "provider"} & set(request["required"])
    assert "service" in schema["components"]["schemas"]["Booking"]["properties"]


@pytest.mark.parametrize("path", ["/api/v1/providers/", "/api/v1/services/"])
def test_provider_and_service_lists_are_documented_as_a_page_or_a_deprecated_array(schema, path):
    operation = schema["paths"][path]["get"]
    assert {"page", "page_size"} <= {p["name"] for p in operation["parameters"]}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page, array = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["oneOf"]
    page_fields = schema["components"]["schemas"][page["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert set(page_fields) == {"count", "next", "previous", "results"}
    assert (array["type"], array["deprecated"]) == ("array", True)


def test_slots_and_new_bookings_document_their_added_fields(schema):
    components = schema["components"]["schemas"]
    assert {"local_start", "local_end"} <= set(components["Slot"]["properties"])
    assert "manage_url" in components["BookingCreated"]["properties"]
    assert "manage_url" not in components["Booking"]["properties"]
    reschedule = schema["paths"]["/api/v1/bookings/{id}/reschedule/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in reschedule["parameters"]}


def test_the_public_api_is_tagged_public_needs_no_credentials_and_names_no_booking_in_a_409(schema):
    public = {path: ops for path, ops in schema["paths"].items() if path.startswith("/api/v1/public/")}
    assert len(public) == 6
    for path, operations in public.items():
        for method, operation in operations.items():
            assert operation["tags"] == ["public"], (method, path)
            assert operation.get("security") in ([{}], []), (method, path)
            if "409" in operation["responses"]:
                conflict = operation["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
                assert conflict.endswith("/Error"), (method, path)
