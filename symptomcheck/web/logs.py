"""Log lines that cannot be forged: control characters in the values logged are escaped."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

# C0 and C1 controls, DEL, the line and paragraph separators and the direction overrides and isolates.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape(value: Any) -> Any:
    """Return a string with each control character written as an escape (\\n, \\x1b, \\u202e); else the value."""
    if not isinstance(value, str):
        return value
    return CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), value)


class EscapedValues(Mapping[str, Any]):
    """A mapping of logged values (gunicorn's access log atoms) whose strings come out escaped."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def __getitem__(self, key: str) -> Any:
        return escape(self.values[key])

    def __iter__(self) -> Any:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def install() -> None:
    """Escape the arguments of every log record made in this process, once: a path or a name cannot add a line."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "escapes_control_characters", False):
        return

    def escaped_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if isinstance(record.args, Mapping):
            record.args = EscapedValues(record.args)  # type: ignore[assignment]
        elif record.args:
            record.args = tuple(escape(value) for value in record.args)
        return record

    escaped_record.escapes_control_characters = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(escaped_record)
