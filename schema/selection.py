"""What a connection field's selection asks of its page, read from the query's syntax tree once per document.

A nested connection's resolver needs two facts before it loads: whether ``totalCount`` is selected (the window
count costs the database a pass over every child) and which fields of the rows are (a page reads only the
columns they need, loaders/child_pages.py). strawberry's ``info.selected_fields`` answers by converting the
whole selection into its own objects on every call — on the mobile operation about 100,000 instructions a
connection. The syntax tree is the same objects from request to request (the parser cache keeps the document),
so the answer is worked out once per field node and looked up after.

``@skip`` and ``@include`` are not evaluated: a field under them counts as selected, which can only make a page
read more than it needs, never less.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode

from schema.context import Info

_LIMIT = 4096
"""Field node sets remembered (per process); the cache is emptied when full, as documents come and go."""


@dataclass(frozen=True, slots=True)
class ConnectionSelection:
    total: bool
    """``totalCount`` is selected."""
    node_fields: frozenset[str]
    """GraphQL names of the fields selected on the rows, under ``nodes`` or ``edges { node }``
    (``__typename`` left out)."""


_known: dict[tuple[int, ...], tuple[tuple[FieldNode, ...], ConnectionSelection]] = {}


def connection_selection(info: Info) -> ConnectionSelection:
    """The selection of the connection field ``info`` resolves (all its field nodes merged)."""
    raw = info._raw_info
    nodes = tuple(raw.field_nodes)
    key = tuple(map(id, nodes))
    known = _known.get(key)
    if known is not None and all(a is b for a, b in zip(known[0], nodes, strict=True)):
        return known[1]
    fragments = raw.fragments
    top = _fields(_children(nodes), fragments)
    edges = _fields(_children(top.get("edges", ())), fragments)
    row_fields = _fields([*_children(top.get("nodes", ())), *_children(edges.get("node", ()))], fragments)
    selection = ConnectionSelection("totalCount" in top, frozenset(row_fields) - {"__typename"})
    if len(_known) >= _LIMIT:
        _known.clear()
    _known[key] = (nodes, selection)  # the nodes kept with the answer: their ids cannot be reused meanwhile
    return selection


def _children(fields: Iterable[FieldNode]) -> list[SelectionNode]:
    """The selections under ``fields``."""
    found: list[SelectionNode] = []
    for field in fields:
        if field.selection_set is not None:
            found.extend(field.selection_set.selections)
    return found


def _fields(
    selections: Iterable[SelectionNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> dict[str, list[FieldNode]]:
    """The field nodes of a selection by field name (not alias), through fragments of any depth."""
    by_name: dict[str, list[FieldNode]] = {}
    pending = list(selections)
    seen: set[str] = set()
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            by_name.setdefault(selection.name.value, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
    return by_name
