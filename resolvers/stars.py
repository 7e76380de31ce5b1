"""Star levels (星级志愿者) from confirmed hours: 1★ 100 h, 2★ 300 h, 3★ 600 h, 4★ 1000 h, 5★ 1500 h by default
(``star_thresholds`` in settings).

**A volunteer's totals are a property of the volunteer**, computed over all their CONFIRMED records whichever
team recorded them — not over the records the viewer can see. Anyone who may see the volunteer sees the same
totals (they are printed on certificates anyway); the records themselves stay scoped. The level computed here
is what the hours reach; a star *award* is applied for and recorded on its own and is never revoked by this
calculation.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal


def star_level(hours: Decimal, thresholds: Sequence[int]) -> int:
    """How many thresholds ``hours`` reaches (0 to ``len(thresholds)``)."""
    return sum(1 for threshold in thresholds if hours >= threshold)


def hours_to_next_star(hours: Decimal, thresholds: Sequence[int]) -> Decimal | None:
    """Hours still missing for the next level; None at the top level."""
    level = star_level(hours, thresholds)
    if level >= len(thresholds):
        return None
    return Decimal(sorted(thresholds)[level]) - hours
