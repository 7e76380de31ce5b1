"""Per-request DataLoaders. Built once per request by ``DataLoaders(...)`` — never at module or app level,
so cached rows never cross viewers. Batches read on pooled connections, an operation's batches on one
(loaders/connect.py)."""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeVar

from sqlmodel import SQLModel

from auth.viewer import Viewer
from loaders.child_pages import ChildPages
from loaders.rows_by_key import RowsByKey
from loaders.team_contacts import TeamContacts
from loaders.volunteer_totals import VolunteerTotals, with_totals
from models import Volunteer
from models.db import SessionFactory

M = TypeVar("M", bound=SQLModel)


class DataLoaders:
    """Loaders made on first use (most requests need two or three of them): ``by_key(Volunteer)`` for rows by
    a unique column, ``children(Post, "project_id")`` for pages of child rows. One instance of each per
    request, so batches are shared. Volunteers by key come with their totals joined (``with_totals``)."""

    def __init__(self, sessions: SessionFactory, viewer: Viewer) -> None:
        self.sessions, self.viewer = sessions, viewer
        self._by_key: dict[tuple[type[SQLModel], str], RowsByKey[Any, Any]] = {}
        self._children: dict[tuple[type[SQLModel], str], ChildPages[Any]] = {}

    @cached_property
    def team_contacts(self) -> TeamContacts:
        return TeamContacts(self.sessions, self.viewer)

    @cached_property
    def volunteer_totals(self) -> VolunteerTotals:
        return VolunteerTotals(self.sessions)

    def by_key(self, model: type[M], key: str = "id") -> RowsByKey[Any, M]:
        loader = self._by_key.get((model, key))
        if loader is None:
            extend = with_totals if model is Volunteer else None
            loader = self._by_key[(model, key)] = RowsByKey(self.sessions, self.viewer, model, key, extend)
        return loader

    def children(self, model: type[M], parent: str) -> ChildPages[M]:
        loader = self._children.get((model, parent))
        if loader is None:
            loader = self._children[(model, parent)] = ChildPages(self.sessions, self.viewer, model, parent)
        return loader
