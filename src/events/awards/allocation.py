"""Prize allocation: a category's prize table and a final ranking give each starter's prize.

A pure function, no database: ``allocate(table, starters)``.

The rules (research/racing.md §2.3 and §7 rule 10; DOMAIN.md rule 9):

* Only starters with status ``finished`` are ranked. ``dns``, ``dnf`` and ``dsq`` starters
  get nothing and take no place, so a disqualified starter moves everyone behind it up
  ("名次向上顺延,奖金顺延").
* Finishers are ordered by ``position``; starters with the same position are a dead heat.
  Position numbers only give the order: ``1, 1, 3`` and ``1, 1, 2`` mean the same thing.
* Places are handed out in that order. A group of ``n`` starters reaching place ``k``
  occupies places ``k .. k+n-1``: the prizes of those places are pooled and split equally,
  and the next finisher takes place ``k+n``. Places beyond the table pay 0, so a dead heat
  at the last paid place splits that prize with the unpaid places.
* Places nobody reaches (fewer finishers than paid places) are not awarded; they are
  reported in ``unawarded_places`` and ``unawarded_fen``.

**Remainder rule.** Money is integer fen. Each of the ``n`` tied starters gets
``pool // n`` fen, so tied starters always get exactly equal amounts. The ``pool % n``
fen that cannot be split equally (at most ``n - 1`` fen per dead heat) are not paid to
anyone: they stay with the organiser's prize fund and are reported as
``undistributed_fen`` (per starter group in ``remainder_fen``). No fen is created or lost:

    awarded_fen + undistributed_fen + unawarded_fen == table_total_fen

Example: a 3-way dead heat for 4th in the youth race (8,000 + 5,000 + 3,000 yuan =
1,600,000 fen) pays 533,333 fen to each; 1 fen is undistributed.

When the table does not increase with place (each prize ≤ the one before), a starter who
finishes strictly ahead of another never gets less: the average of earlier places is at
least the average of later ones, and rounding down keeps that order.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby, pairwise

REMAINDER_RULE = (
    "Tied starters each get floor(pool / n) fen, exactly equal; the pool mod n fen (at "
    "most n-1 per dead heat) stay with the organiser and are reported as undistributed_fen."
)


class StarterStatus(StrEnum):
    FINISHED = "finished"
    DNS = "dns"  # did not start
    DNF = "dnf"  # did not finish
    DSQ = "dsq"  # disqualified


class AllocationError(ValueError):
    """The table or the ranking cannot be allocated; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Starter:
    """One starter in the final ranking. ``position`` is required when finished."""

    starter_id: str
    status: StarterStatus = StarterStatus.FINISHED
    position: int | None = None


@dataclass(frozen=True, slots=True)
class StarterPrize:
    starter_id: str
    status: StarterStatus
    place: int | None
    """The place the starter is deemed to have taken (the first pooled place); None
    when not ranked."""
    pooled_places: tuple[int, ...]
    """The places whose prizes were pooled for this starter's group (one when no tie)."""
    tied_with: int
    """How many other starters share this place."""
    prize_fen: int


@dataclass(frozen=True, slots=True)
class Allocation:
    prizes: tuple[StarterPrize, ...]
    """In ranking order, then the unranked starters in input order."""
    table_total_fen: int
    awarded_fen: int
    undistributed_fen: int
    """Fen left over by dead-heat splits (the remainder rule); kept by the organiser."""
    unawarded_places: tuple[int, ...]
    unawarded_fen: int
    remainder_rule: str = REMAINDER_RULE

    def prize_of(self, starter_id: str) -> int:
        return next(p.prize_fen for p in self.prizes if p.starter_id == starter_id)


def check_table(table: Mapping[int, int]) -> None:
    """A prize table maps places 1..N (contiguous) to non-negative fen."""
    places = sorted(table)
    if places != list(range(1, len(places) + 1)):
        raise AllocationError(
            "table", f"Places must be 1..{len(places)} without gaps; got {places}."
        )
    for place in places:
        amount = table[place]
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise AllocationError(
                f"table.{place}", f"The prize of place {place} must be whole fen ≥ 0."
            )


def _check_starters(starters: Sequence[Starter]) -> None:
    seen: set[str] = set()
    for i, starter in enumerate(starters):
        if starter.starter_id in seen:
            raise AllocationError(
                f"starters.{i}.starter_id", f"Starter {starter.starter_id!r} appears twice."
            )
        seen.add(starter.starter_id)
        if starter.status is StarterStatus.FINISHED:
            if starter.position is None:
                raise AllocationError(
                    f"starters.{i}.position", "A finished starter needs a position."
                )
            if isinstance(starter.position, bool) or starter.position < 1:
                raise AllocationError(f"starters.{i}.position", "Positions start at 1.")


def allocate(table: Mapping[int, int], starters: Iterable[Starter]) -> Allocation:
    """Each starter's prize in fen, by the rules in this module's docstring."""
    check_table(table)
    starters = list(starters)
    _check_starters(starters)
    finishers = sorted(
        (s for s in starters if s.status is StarterStatus.FINISHED), key=lambda s: s.position or 0
    )
    prizes: list[StarterPrize] = []
    undistributed = 0
    next_place = 1
    for _, group_iter in groupby(finishers, key=lambda s: s.position):
        group = list(group_iter)
        places = tuple(range(next_place, next_place + len(group)))
        pool = sum(table.get(p, 0) for p in places)
        share, remainder = divmod(pool, len(group))
        undistributed += remainder
        prizes += [
            StarterPrize(
                starter_id=s.starter_id,
                status=s.status,
                place=next_place,
                pooled_places=places,
                tied_with=len(group) - 1,
                prize_fen=share,
            )
            for s in group
        ]
        next_place += len(group)
    prizes += [
        StarterPrize(
            starter_id=s.starter_id,
            status=s.status,
            place=None,
            pooled_places=(),
            tied_with=0,
            prize_fen=0,
        )
        for s in starters
        if s.status is not StarterStatus.FINISHED
    ]
    unawarded = tuple(p for p in sorted(table) if p >= next_place)
    return Allocation(
        prizes=tuple(prizes),
        table_total_fen=sum(table.values()),
        awarded_fen=sum(p.prize_fen for p in prizes),
        undistributed_fen=undistributed,
        unawarded_places=unawarded,
        unawarded_fen=sum(table[p] for p in unawarded),
    )


# --- Withholding ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WithholdingRule:
    """E.g. 20 % on prizes of 10,000 yuan or more (Maqu: "万元以上含税金20%").

    Applies to a cash amount actually received; the withheld fen are rounded down (in the
    payee's favour). Prizes in kind are not subject to it.
    """

    enabled: bool = False
    rate_bp: int = 2000
    """Basis points: 2000 = 20 %."""
    threshold_fen: int = 1_000_000
    """Prizes of this amount or more are subject to withholding."""

    def withheld_fen(self, amount_fen: int) -> int:
        if not self.enabled or amount_fen < self.threshold_fen:
            return 0
        return amount_fen * self.rate_bp // 10_000


def is_monotonic(amounts_by_place: Sequence[int]) -> bool:
    """True when no place pays more than the place before it."""
    return all(a >= b for a, b in pairwise(amounts_by_place))
