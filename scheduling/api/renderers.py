"""JSON written by orjson, for responses long enough that the standard encoder dominates them."""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_drf_default = JSONEncoder().default


class FastJSONRenderer(JSONRenderer):
    """The same JSON as DRF's renderer, written in C.

    A month of slots is about 900 objects with three instants each; formatting them with
    `isoformat()` and encoding with `json` took longer than computing the slots. orjson writes
    datetimes itself, and like DRF's encoder it writes an instant at offset zero with a `Z`.
    Whatever orjson does not know (Decimal, lazy translations) goes through DRF's encoder.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_drf_default, option=orjson.OPT_UTC_Z)
