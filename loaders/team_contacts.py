"""Which volunteers a team admin organises (current members, applicants and invitees, sign-ups of the admin's
teams; not former members or rejected applicants), the same volunteers ``scope()`` shows the admin.

Answers the ``@sensitive(kind: PHONE)`` question for team admins in one query per batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, union
from sqlmodel import col

from auth.scope import ACTIVE_MEMBER
from auth.viewer import Viewer
from loaders.batch_loader import BatchLoader
from loaders.connect import fetch_all
from models import SignUp, TeamMembership
from models.db import SessionFactory


class TeamContacts(BatchLoader[int, bool]):
    def __init__(self, sessions: SessionFactory, viewer: Viewer) -> None:
        super().__init__()
        self.sessions, self.viewer = sessions, viewer

    async def _load(self, volunteer_ids: Sequence[int]) -> list[bool]:
        if not self.viewer.team_ids:
            return [False] * len(volunteer_ids)
        teams, ids = sorted(self.viewer.team_ids), set(volunteer_ids)
        statement = union(
            select(col(TeamMembership.volunteer_id)).where(
                col(TeamMembership.team_id).in_(teams),
                col(TeamMembership.volunteer_id).in_(ids),
                col(TeamMembership.status).in_(ACTIVE_MEMBER),
            ),
            select(col(SignUp.volunteer_id)).where(
                col(SignUp.team_id).in_(teams), col(SignUp.volunteer_id).in_(ids)
            ),
        )
        found = {row[0] for row in await fetch_all(self.sessions, statement, {})}
        return [v in found for v in volunteer_ids]
