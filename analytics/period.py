"""What a report is asked about: the local dates `start`…`end` (inclusive, in TIME_ZONE), whether
durations count business hours only, and the operator and label filters — read from query
parameters once, for the API, the CSV and the dashboard alike (PRODUCT §10)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from livechat.models import Conversation

MAX_DAYS = 366
DEFAULT_DAYS = 7
TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


class InvalidPeriod(ValueError):
    """Bad query parameters; the message says which and why (answered 400 `invalid`)."""


def conversations_have_labels() -> bool:
    """Labels (Conversation.labels) are another feature's: filter and export them when present."""
    return any(field.name == "labels" for field in Conversation._meta.get_fields())


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    business_hours: bool = False
    operator_id: int | None = None
    label_id: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(settings.TIME_ZONE)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[first instant of `start`, first instant after `end`) as aware datetimes."""
        return (
            datetime.combine(self.start, time(0), self.zone),
            datetime.combine(self.end + timedelta(days=1), time(0), self.zone),
        )

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "business_hours": self.business_hours,
        }


def _date(params: Mapping[str, str], name: str, default: date) -> date:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidPeriod(f"{name} must be a date as YYYY-MM-DD, not {str(raw)[:20]!r}.") from None


def _id(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    if not str(raw).isdigit() or len(str(raw)) > 18:
        raise InvalidPeriod(f"{name} must be an id (a whole number).")
    return int(str(raw))


def parse(params: Mapping[str, str], *, filters: bool = True) -> Period:
    """The period the parameters ask for; raises InvalidPeriod with a sentence for people."""
    today = timezone.localdate()
    end = _date(params, "end", today)
    start = _date(params, "start", end - timedelta(days=DEFAULT_DAYS - 1))
    if end < start:
        raise InvalidPeriod("end must not be before start.")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidPeriod(f"The period may cover at most {MAX_DAYS} days.")
    flag = str(params.get("business_hours", "")).lower()
    if flag not in TRUE + FALSE:
        raise InvalidPeriod("business_hours must be 1 or 0.")
    if not filters:
        return Period(start, end, flag in TRUE)
    label_id = _id(params, "label")
    if label_id is not None and not conversations_have_labels():
        raise InvalidPeriod("Conversations have no labels to filter by.")
    return Period(start, end, flag in TRUE, operator_id=_id(params, "operator"), label_id=label_id)
