"""The draw by lot: a pure function, the same answer on any machine for the same seed.

**Algorithm ``sha256-v1``** (documented so anyone can check a published draw by hand):

1. Each candidate has a stable key (its entry id, lower-case UUID text).
2. Its lot is ``SHA-256("<seed>:<key>")`` as hexadecimal text (the seed in decimal).
3. Candidates are ordered by lot, ascending (ties, impossible in practice, by key).

Nothing depends on Python's hash randomisation, dictionary order or random module, so
the order can be re-computed from the published seed and entry ids with any SHA-256 tool.

**Separation** (optional): walking the drawn order, when a candidate has the same group
(county or owner) as the one before it, the first later candidate of another group is
moved forward into its place. When no such candidate is left the order stays as it is
and ``separation_kept`` is False.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

ALGORITHM = "sha256-v1"
MAX_SEED = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Candidate:
    key: str
    group: str = ""
    """County or owner, for separation."""


def new_seed() -> int:
    """A fresh seed when the officials give none (recorded and shown with the draw)."""
    return secrets.randbelow(10**12)


def lot(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def draw(
    seed: int, candidates: Sequence[Candidate], *, separate: bool = False
) -> tuple[list[Candidate], bool]:
    """The candidates in drawn order, and whether separation was kept."""
    order = sorted(candidates, key=lambda c: (lot(seed, c.key), c.key))
    if not separate:
        return order, True
    kept = True
    for i in range(1, len(order)):
        if order[i].group != order[i - 1].group:
            continue
        swap = next(
            (j for j in range(i + 1, len(order)) if order[j].group != order[i - 1].group), None
        )
        if swap is None:
            kept = False
            continue
        order.insert(i, order.pop(swap))
    return order, kept
