"""Registration's models as their response schemas: one mapper per response type, used by
every route and page that answers it."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from events.registration import eligibility, fees, provinces, schemas
from events.registration.models import (
    Entry,
    EntryStatus,
    Horse,
    Race,
    Rider,
)


def province_read(code: str) -> schemas.ProvinceRead:
    p = provinces.province(code)
    return schemas.ProvinceRead(code=p.code, zh=p.zh, zh_full=p.zh_full, en=p.en, kind=p.kind)


def rider_read(rider: Rider) -> schemas.RiderRead:
    return schemas.RiderRead(
        id=str(rider.id),
        owner_id=str(rider.owner_id),
        name=rider.name,
        birth_date=rider.birth_date,
        guardian_name=rider.guardian_name,
        guardian_consent=rider.guardian_consent,
    )


def horse_read(horse: Horse, owner_name: str) -> schemas.HorseRead:
    return schemas.HorseRead(
        id=str(horse.id),
        owner_id=str(horse.owner_id),
        owner_name=owner_name,
        species=horse.species,
        name_zh=horse.name_zh,
        name_bo=horse.name_bo,
        name_en=horse.name_en,
        sex=horse.sex,
        birth_year=horse.birth_year,
        colour=horse.colour,
        markings=horse.markings,
        breed=horse.breed,
        height_cm=horse.height_cm,
        microchip=horse.microchip,
        passport_number=horse.passport_number,
        origin_province=horse.origin_province,
        created_at=horse.created_at,
    )


def race_read(race: Race, date: dt.date, waiting: int, now: dt.datetime) -> schemas.RaceRead:
    return schemas.RaceRead(
        id=str(race.id),
        festival_id=str(race.festival_id),
        day_id=str(race.day_id),
        date=date,
        award_category_id=str(race.award_category_id) if race.award_category_id else None,
        code=race.code,
        name_zh=race.name_zh,
        name_en=race.name_en,
        species=race.species,
        distance_m=race.distance_m,
        field_size=race.field_size,
        entered=race.entered,
        places_left=max(0, race.field_size - race.entered),
        waiting=waiting,
        window=fees.window(race, now),
        entries_open_at=race.entries_open_at,
        entries_close_at=race.entries_close_at,
        late_close_at=race.late_close_at,
        name_bo=race.name_bo,
        fees=schemas.FeesRead(
            currency=race.currency,
            registration=race.registration_fee,
            start=race.start_fee,
            late=race.late_fee,
        ),
        fee_now=fees.fee_for(race, now).total,
        rules=schemas.RulesRead(
            age_min=race.age_min,
            age_max=race.age_max,
            age_reference_date=race.age_reference_date,
            height_min_cm=race.height_min_cm,
            height_max_cm=race.height_max_cm,
            local_provinces=list(race.local_provinces),
            local_counties=list(race.local_counties),
            max_per_county=race.max_per_county,
            rider_min_age=race.rider_min_age,
            rider_max_age=race.rider_max_age,
        ),
        conditions=eligibility.conditions(race),
        refund_policy=fees.REFUND_POLICY,
    )


def entry_read(row: Sequence[Any]) -> schemas.EntryRead:
    entry: Entry = row[0]
    code, name_zh, name_en, date, horse_name, rider_name, owner_name = row[1:8]
    balance = (
        max(0, entry.fee_due - entry.amount_paid)
        if entry.status == EntryStatus.PENDING_PAYMENT
        else 0
    )
    return schemas.EntryRead(
        id=str(entry.id),
        festival_id=str(entry.festival_id),
        race_id=str(entry.race_id),
        race_code=code,
        race_name_zh=name_zh,
        race_name_en=name_en,
        race_date=date,
        horse_id=str(entry.horse_id),
        horse_name=horse_name,
        rider_id=str(entry.rider_id),
        rider_name=rider_name,
        owner_id=str(entry.owner_id),
        owner_name=owner_name,
        province=entry.province,
        province_zh=provinces.zh_name(entry.province),
        county=entry.county,
        status=EntryStatus(entry.status),
        waitlist_position=entry.waitlist_position,
        source=entry.source,
        fee=schemas.FeeRead(
            currency=entry.currency,
            registration=entry.registration_fee,
            start=entry.start_fee,
            late=entry.late_fee,
            total=entry.fee_due,
        ),
        fee_due=entry.fee_due,
        balance_due=balance,
        amount_paid=entry.amount_paid,
        amount_refunded=entry.amount_refunded,
        currency=entry.currency,
        payment_id=str(entry.payment_id) if entry.payment_id else None,
        checkout_url=entry.checkout_url if balance else None,
        created_at=entry.created_at,
        status_changed_at=entry.status_changed_at,
    )
