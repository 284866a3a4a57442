"""Thai public holidays, shipped with the app (no fetching at run time): the list in
thai_holidays.json says where it comes from and the last date it covers (`valid_through`).
Substitution days ("in lieu") are included; bridge holidays the cabinet announces during the year
are not — a supervisor adds those by hand."""

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from livechat.models import Holiday
from livechat.policies import business_hours

DATA = Path(__file__).with_name("thai_holidays.json")


@dataclass(frozen=True)
class Listed:
    day: date
    th: str
    en: str

    @property
    def name(self) -> str:
        return f"{self.th} ({self.en})"[:200]


@cache
def _data() -> tuple[date, tuple[Listed, ...]]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    listed = tuple(Listed(date.fromisoformat(h["date"]), h["th"], h["en"]) for h in raw["holidays"])
    return date.fromisoformat(raw["valid_through"]), listed


def valid_through() -> date:
    return _data()[0]


def years() -> list[int]:
    """The years the shipped list covers."""
    return sorted({h.day.year for h in _data()[1]})


def listed(year: int) -> list[Listed]:
    return [h for h in _data()[1] if h.day.year == year]


def load(year: int) -> list[Holiday]:
    """Add the year's Thai public holidays as closed days; dates already in the calendar (closed,
    or with special hours someone set) are left as they are. Returns the holidays added."""
    taken = set(Holiday.objects.filter(date__year=year).values_list("date", flat=True))
    added = [Holiday(date=h.day, name=h.name) for h in listed(year) if h.day not in taken]
    Holiday.objects.bulk_create(added)
    if added:
        business_hours.forget()  # bulk_create sends no post_save
    return added
