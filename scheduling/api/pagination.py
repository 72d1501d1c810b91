"""Pages of a list: `{"count", "next", "previous", "results"}`, as bookings have always been listed.

Providers and services were plain JSON arrays in v1, and integrators read them so: they page only
when asked (`?page=` or `?page_size=`), and a bare GET keeps the array, deprecated
(docs/api.md, "Pages").
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response


class PagePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PageQuerySerializer(serializers.Serializer):
    """`page` and `page_size` as the schema states them: a bad one is a 400 naming it (these lists
    page only on request, so nobody relies on DRF's silent fallback to the default size)."""

    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, required=False)


def wants_pages(request: Request) -> bool:
    return bool({PagePagination.page_query_param, PagePagination.page_size_query_param} & request.query_params.keys())


def listed(request: Request, items, serializer_class: type[serializers.Serializer], view) -> Response:
    """A page of `items` when the client asks for pages, else (deprecated) all of them as an array."""
    if not wants_pages(request):
        return Response(serializer_class(items, many=True, context={"request": request}).data)
    # A plain dict, not the QueryDict: DRF reads an empty form value as "not given", and `?page_size=`
    # must be the 400 the schema promises rather than the default size.
    asked = {name: request.query_params[name] for name in PageQuerySerializer().fields if name in request.query_params}
    PageQuerySerializer(data=asked).is_valid(raise_exception=True)
    paginator = PagePagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context={"request": request}).data)


PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1},
        description="Page number (from 1). Given (or `page_size`), the answer is a page; else an array.",
    ),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1}, description="Items per page: 50 by default, at most 200."
    ),
]


class PageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class PageOrArray(serializers.Serializer):
    """Schema only: the 200 of a list that pages on request (`PageOrArrayExtension` writes it)."""

    def __init__(self, item: type[serializers.Serializer], name: str) -> None:
        super().__init__()
        self.item = item
        self.name = name
        self.page = type(f"{name}PageSerializer", (PageSerializer,), {"results": item(many=True)})


class PageOrArrayExtension(OpenApiSerializerExtension):
    """`oneOf` [the page, the bare array marked deprecated]: drf-spectacular gives a status one shape
    from a serializer and never marks a branch of a `oneOf` deprecated, so it is written here."""

    target_class = PageOrArray

    def get_name(self, auto_schema=None, direction=None) -> str:
        return f"{self.target.name}ListOrPage"

    def map_serializer(self, auto_schema, direction):
        page = auto_schema.resolve_serializer(self.target.page, direction)
        item = auto_schema.resolve_serializer(self.target.item, direction)
        array = {
            "type": "array",
            "items": item.ref,
            "deprecated": True,
            "description": "Deprecated: the whole list, when neither `page` nor `page_size` is given.",
        }
        return {"oneOf": [page.ref, array]}


DEPRECATED_ARRAY = (
    "Pass `page` or `page_size` to get a page (`count`, `next`, `previous`, `results`), as bookings are "
    "listed. **Deprecated:** without either, the answer is the whole list as a bare JSON array, as in the "
    "first v1 releases; it stays for existing integrations, but new ones should page."
)
