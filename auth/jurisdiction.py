"""Jurisdiction as a prefix of the 12-digit region code, queried as a range on an indexed column.

Province 2 digits, prefecture 4, county 6, township 9 (GB/T 2260 plus the statistical extension). A range
``code BETWEEN prefix||'000…' AND prefix||'999…'`` uses the B-tree index on every backend, unlike LIKE.
"""

from __future__ import annotations

import re

REGION_CODE = re.compile(r"^\d{12}$")
_PREFIX_LENGTHS = (2, 4, 6, 9)


def jurisdiction_prefix(code: str) -> str:
    """The shortest prefix that identifies ``code``'s subtree: ``370102000000`` → ``370102``."""
    for length in _PREFIX_LENGTHS:
        if set(code[length:]) <= {"0"}:
            return code[:length]
    return code


def code_range(prefix: str) -> tuple[str, str]:
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def contains(prefix: str, code: str | None) -> bool:
    return code is not None and code.startswith(prefix)


def level_of(code: str) -> int:
    """1 province, 2 prefecture, 3 county, 4 township, 5 village: by the length of the prefix."""
    return {2: 1, 4: 2, 6: 3, 9: 4}.get(len(jurisdiction_prefix(code)), 5)
