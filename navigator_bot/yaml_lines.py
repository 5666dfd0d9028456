"""Load YAML while remembering the line of every value, so that errors can point into the file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

PathKey = tuple[str | int, ...]


class YamlSyntaxError(Exception):
    """A YAML file could not be parsed."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class LocatedYaml:
    """Parsed YAML data plus the 1-based line number of each path in it."""

    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Return the line of `path`, or of its nearest ancestor present in the file."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


# libyaml's C parser where PyYAML was built with it (several times faster than the pure-Python one; start-up reads
# the whole catalog). Same nodes and line marks; the constructors stay Python, so the duplicate-key check still works.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """A safe loader that refuses duplicate mapping keys instead of silently keeping the last."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _record_lines(node: yaml.Node, path: PathKey, lines: dict[PathKey, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            _record_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


MAX_DEPTH = 40  # the catalog nests a few levels; deeper is a mistake or an attack on the parser


def _refuse_aliases_and_depth(text: str) -> None:
    """Refuse anchors and aliases (a few bytes can expand to gigabytes: the "billion laughs") and deep nesting."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise YamlSyntaxError("anchors and aliases (& and *) are not allowed in the catalog: write values "
                                      "out in full", event.start_mark.line + 1)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlSyntaxError(f"nested more than {MAX_DEPTH} levels deep", event.start_mark.line + 1)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError:
        return  # a syntax error: the full parse below reports it with its line


def load_located(text: str) -> LocatedYaml:
    """Parse YAML text into data and a map from each path to its line; raise YamlSyntaxError if invalid."""
    _refuse_aliases_and_depth(text)
    loader = _UniqueKeyLoader(text)
    try:  # parse once: the same node tree gives the data and the lines
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or str(error)
        return_line = mark.line + 1 if mark else None
        raise YamlSyntaxError(f"YAML syntax: {problem}", return_line) from error
    except yaml.YAMLError as error:
        raise YamlSyntaxError(f"YAML syntax: {error}", None) from error
    finally:
        loader.dispose()
    located = LocatedYaml(data=data)
    if node is not None:
        _record_lines(node, (), located.lines)
    return located
