"""Load YAML while keeping the line of every value, so errors can point at it."""

from __future__ import annotations

from typing import Any

import yaml


class MarkedMap(dict[Any, Any]):
    """A YAML mapping that knows its own line, each value's line and repeated keys."""

    line: int
    value_lines: dict[Any, int]
    repeated_keys: list[tuple[Any, int]]

    def line_of(self, key: Any) -> int:
        """Return the line of a key's value, or of the mapping when the key is absent."""
        return self.value_lines.get(key, self.line)


class MarkedList(list[Any]):
    """A YAML sequence that knows its own line and each item's line."""

    line: int
    item_lines: list[int]


class _MarkedLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> MarkedMap:
        mapping = MarkedMap()
        mapping.line = node.start_mark.line + 1
        mapping.value_lines = {}
        mapping.repeated_keys = []
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool | None):
                key = str(key)  # a list or mapping as a key: kept as text, reported as an unknown key
            if key in mapping:
                mapping.repeated_keys.append((key, key_node.start_mark.line + 1))
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.value_lines[key] = value_node.start_mark.line + 1
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> MarkedList:
        sequence = MarkedList(self.construct_object(child, deep=True) for child in node.value)
        sequence.line = node.start_mark.line + 1
        sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
        return sequence


_MarkedLoader.add_constructor("tag:yaml.org,2002:map", _MarkedLoader.construct_mapping)
_MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _MarkedLoader.construct_sequence)


def load(text: str) -> Any:
    """Parse one YAML document into MarkedMap, MarkedList and plain scalars."""
    return yaml.load(text, Loader=_MarkedLoader)  # noqa: S506 - a SafeLoader subclass
