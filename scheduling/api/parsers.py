"""The API's JSON parser: DRF's, plus the two inputs it let through to a 500."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """Deeply nested JSON (`[` x 100,000) overflows the parser's recursion: a malformed request, not a 500.
    A NUL in any string or key is refused here, once for every endpoint: PostgreSQL cannot store it."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
        where = _nul_path(data)
        if where is not None:
            raise ParseError(f"JSON strings may not contain NUL characters (at {where or 'the top level'}).")
        return data


def _nul_path(value, path: str = "") -> str | None:
    """Where a NUL character is, as `customer.name`, or None. Iterative: the input's depth is the
    sender's choice."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return f"a key of {where}" if where else "a key"
                stack.append((child, f"{where}.{key}" if where else key))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{index}" if where else str(index)) for index, child in enumerate(item))
    return None
