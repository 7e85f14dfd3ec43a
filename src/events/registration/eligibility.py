"""Is this horse-rider pair eligible for this race? Every failing rule is named.

Pure functions over loaded rows (DOMAIN rule 2): the same checks run when entering online,
for every row of an import, and again at the pre-race inspection. Each failure carries a
stable ``code`` (pages translate it) and an English message.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from events.registration import provinces
from events.registration.models import Horse, Owner, Race, Rider

ADULT_AGE = 18


@dataclass(frozen=True, slots=True)
class RuleFailure:
    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Standing:
    """What the race already holds, as far as the rules care."""

    county_entries: int = 0
    """Active entries (places and waiting list) from the owner's county."""
    horse_entered: bool = False
    rider_entered: bool = False


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Whole years of a person on a date."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def horse_age(birth_year: int, reference: dt.date) -> int:
    """Horses age with the calendar year (only the birth year is known)."""
    return reference.year - birth_year


def check(
    race: Race,
    race_day: dt.date,
    horse: Horse,
    rider: Rider,
    owner: Owner,
    standing: Standing,
    *,
    measured_height_cm: int | None = None,
) -> list[RuleFailure]:
    failures: list[RuleFailure] = []
    fail = failures.append

    if horse.species != race.species:
        fail(
            RuleFailure(
                "wrong_species",
                f"This race is for {race.species}s; {horse.name_zh} is a {horse.species}.",
                {"species": race.species},
            )
        )

    reference = race.age_reference_date or race_day
    age = horse_age(horse.birth_year, reference)
    if race.age_min is not None and age < race.age_min:
        fail(
            RuleFailure(
                "horse_too_young",
                f"The horse is {age} on {reference}; the race needs at least {race.age_min}.",
                {"age": age, "min": race.age_min},
            )
        )
    if race.age_max is not None and age > race.age_max:
        fail(
            RuleFailure(
                "horse_too_old",
                f"The horse is {age} on {reference}; the race allows at most {race.age_max}.",
                {"age": age, "max": race.age_max},
            )
        )

    height = measured_height_cm if measured_height_cm is not None else horse.height_cm
    if race.height_min_cm is not None and height < race.height_min_cm:
        fail(
            RuleFailure(
                "horse_too_small",
                f"Shoulder height {height} cm is below the class "
                f"minimum of {race.height_min_cm} cm.",
                {"height": height, "min": race.height_min_cm},
            )
        )
    if race.height_max_cm is not None and height > race.height_max_cm:
        fail(
            RuleFailure(
                "horse_too_tall",
                f"Shoulder height {height} cm is above the class "
                f"maximum of {race.height_max_cm} cm.",
                {"height": height, "max": race.height_max_cm},
            )
        )

    if race.local_provinces and horse.origin_province not in race.local_provinces:
        allowed = "、".join(provinces.zh_name(code) for code in race.local_provinces)
        fail(
            RuleFailure(
                "not_local_horse",
                f"Local horses only: the horse must come from {', '.join(race.local_provinces)}.",
                {"allowed": allowed},
            )
        )
    if race.local_counties and owner.county not in race.local_counties:
        allowed = "、".join(race.local_counties)
        fail(
            RuleFailure(
                "not_local_county",
                "Local owners only: the owner's county must be "
                f"one of {', '.join(race.local_counties)}.",
                {"allowed": allowed},
            )
        )
    if race.max_per_county is not None and standing.county_entries >= race.max_per_county:
        fail(
            RuleFailure(
                "county_cap_reached",
                f"{owner.county} already has "
                f"{standing.county_entries} horses in this race; at most "
                f"{race.max_per_county} per county.",
                {"county": owner.county, "max": race.max_per_county},
            )
        )

    rider_age = age_on(rider.birth_date, race_day)
    if race.rider_min_age is not None and rider_age < race.rider_min_age:
        fail(
            RuleFailure(
                "rider_too_young",
                f"The rider is {rider_age} on race day; the race "
                f"needs riders of at least {race.rider_min_age}.",
                {"age": rider_age, "min": race.rider_min_age},
            )
        )
    if race.rider_max_age is not None and rider_age > race.rider_max_age:
        fail(
            RuleFailure(
                "rider_too_old",
                f"The rider is {rider_age} on race day; the race is "
                f"for riders of at most {race.rider_max_age}.",
                {"age": rider_age, "max": race.rider_max_age},
            )
        )
    if rider_age < ADULT_AGE and not rider.guardian_consent:
        fail(
            RuleFailure(
                "guardian_consent_missing",
                f"The rider is {rider_age}: a guardian's consent is needed for riders under 18.",
                {"age": rider_age},
            )
        )

    if standing.horse_entered:
        fail(RuleFailure("horse_already_entered", "This horse is already entered in the race."))
    if standing.rider_entered:
        fail(
            RuleFailure(
                "rider_already_entered", "This rider already rides another horse in the race."
            )
        )
    return failures


def conditions(race: Race) -> list[str]:
    """The race's conditions in words, for people."""
    out = []
    if race.age_min is not None or race.age_max is not None:
        out.append(
            f"horse age {race.age_min or 0}-{race.age_max or '∞'}"
            f" as of {race.age_reference_date or 'race day'}"
        )
    if race.height_min_cm is not None or race.height_max_cm is not None:
        out.append(f"height {race.height_min_cm or 0}-{race.height_max_cm or '∞'} cm")
    if race.local_provinces:
        out.append("local horses: " + ", ".join(race.local_provinces))
    if race.local_counties:
        out.append("local counties: " + ", ".join(race.local_counties))
    if race.max_per_county is not None:
        out.append(f"at most {race.max_per_county} per county")
    if race.rider_min_age is not None or race.rider_max_age is not None:
        out.append(f"rider age {race.rider_min_age or 0}-{race.rider_max_age or '∞'}")
    return out
