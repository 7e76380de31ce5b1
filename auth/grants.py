"""Who may grant or change whose admin rights: one level down, inside one's own jurisdiction.

The ministry creates province admins, a province admin city admins inside the province, a city admin county
admins, a county admin township admins; nobody touches a grant above or beside their own.
"""

from __future__ import annotations

from auth.jurisdiction import jurisdiction_prefix
from auth.viewer import Viewer
from models import RoleGrant
from models.enums import Role


def creator_level(viewer: Viewer, region_code: str) -> int | None:
    """The level of the viewer's grant that covers ``region_code``: 0 for the ministry, None if none."""
    if viewer.is_ministry:
        return 0
    levels = [len(p) for p in viewer.region_prefixes if region_code.startswith(p)]
    return {2: 1, 4: 2, 6: 3, 9: 4}.get(max(levels)) if levels else None


def outranks(viewer: Viewer, grant: RoleGrant) -> bool:
    """Region grants strictly below the viewer's jurisdiction, team grants inside it; never the ministry's."""
    if grant.role == Role.MINISTRY_ADMIN:
        return False
    if viewer.is_ministry:
        return True
    if grant.region_code is None:
        return False
    target = jurisdiction_prefix(grant.region_code)
    return any(
        target.startswith(p) and (grant.role == Role.TEAM_ADMIN or len(target) > len(p))
        for p in viewer.region_prefixes
    )
