"""The settings pages' forms. The models carry the rules of a single value (period order, LINE's
text limit, known placeholders, ranges); these add the rules across rows and fields (periods of a
day that overlap, a warning that would come after the close) and the minutes/hours of SLA targets.
"""

import itertools
from datetime import time
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseModelFormSet, modelformset_factory
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from livechat.models import BusinessHours, Holiday, ServiceSettings, SlaPolicy

TIME_WIDGET = forms.TimeInput(format="%H:%M", attrs={"type": "time"})
DAY_END = 24 * 60  # a period closing at 00:00 runs to midnight at the end of its day


def _minutes(opens: time, closes: time) -> tuple[int, int]:
    """A period as minutes since the day's start, 00:00 as the close counting as 24:00."""
    end = DAY_END if closes == time(0) else closes.hour * 60 + closes.minute
    return opens.hour * 60 + opens.minute, end


def clock(t: time) -> str:
    return f"{t:%H:%M}"


def _first_overlap(periods: list[tuple[time, time]]) -> tuple[str, str] | None:
    """The first two periods (as "09:00–12:00") that overlap; touching ends do not."""
    spans = sorted(periods, key=lambda p: _minutes(*p))
    for earlier, later in itertools.pairwise(spans):
        if _minutes(*later)[0] < _minutes(*earlier)[1]:
            return f"{clock(earlier[0])}–{clock(earlier[1])}", f"{clock(later[0])}–{clock(later[1])}"
    return None


def overlap_error(first: str, second: str) -> ValidationError:
    return ValidationError(
        _("The periods %(first)s and %(second)s overlap. Make one end before the other starts."),
        code="overlap",
        params={"first": first, "second": second},
    )


class PeriodForm(forms.ModelForm):
    class Meta:
        model = BusinessHours
        fields = ["opens_at", "closes_at"]
        widgets = {"opens_at": TIME_WIDGET, "closes_at": TIME_WIDGET}


class BaseDayFormSet(BaseModelFormSet):
    """One weekday's periods: remove one with its checkbox, add one in the empty row."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            (form.cleaned_data["opens_at"], form.cleaned_data["closes_at"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        overlap = _first_overlap(kept)
        if overlap:
            raise overlap_error(*overlap)


DayFormSet = modelformset_factory(
    BusinessHours, form=PeriodForm, formset=BaseDayFormSet, extra=1, can_delete=True
)


def day_formset(weekday: int, data: Any = None) -> "BaseModelFormSet[BusinessHours, PeriodForm]":
    return DayFormSet(data, queryset=BusinessHours.objects.filter(weekday=weekday), prefix=f"day{weekday}")


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name", "opens_at", "closes_at"]
        widgets = {
            "date": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            "opens_at": TIME_WIDGET,
            "closes_at": TIME_WIDGET,
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        day, opens, closes = cleaned.get("date"), cleaned.get("opens_at"), cleaned.get("closes_at")
        if day is None or (opens is None) != (closes is None):  # Holiday.clean says what is missing
            return cleaned
        same_day = list(Holiday.objects.filter(date=day))
        if any(h.opens_at is None for h in same_day):
            raise ValidationError(
                _(
                    "%(date)s is already in the calendar as closed all day. "
                    "Delete it first to set special hours."
                ),
                code="closed_already",
                params={"date": day.isoformat()},
            )
        if opens is None or closes is None:
            if same_day:
                raise ValidationError(
                    _("%(date)s already has special hours. Delete them first to close the whole day."),
                    code="hours_already",
                    params={"date": day.isoformat()},
                )
            return cleaned
        periods = [(opens, closes)]
        periods += [(h.opens_at, h.closes_at) for h in same_day if h.opens_at and h.closes_at]
        overlap = _first_overlap(periods)
        if overlap:
            raise overlap_error(*overlap)
        return cleaned


SERVICE_FIELDS = [
    "after_hours_message",
    "auto_assign_enabled",
    "auto_close_enabled",
    "auto_close_minutes",
    "close_warning_enabled",
    "close_warning_minutes",
    "close_warning_message",
    "bot_close_minutes",
    "csat_enabled",
    "csat_after_auto_close",
    "csat_expiry_hours",
    "csat_question",
    "csat_thanks",
    "csat_comment_thanks",
    "retention_days",
    "webhook_retention_days",
]


class ServiceSettingsForm(forms.ModelForm):
    class Meta:
        model = ServiceSettings
        fields = SERVICE_FIELDS
        widgets = {
            "after_hours_message": forms.Textarea(attrs={"rows": 4}),
            "close_warning_message": forms.Textarea(attrs={"rows": 3}),
            "csat_thanks": forms.Textarea(attrs={"rows": 3}),
            "csat_comment_thanks": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        warn, close = cleaned.get("close_warning_minutes"), cleaned.get("auto_close_minutes")
        if (
            cleaned.get("auto_close_enabled")
            and cleaned.get("close_warning_enabled")
            and warn is not None
            and close is not None
            and warn >= close
        ):
            self.add_error(
                "close_warning_minutes",
                ValidationError(
                    _("The warning must come before the close: fewer than %(close)s minutes."),
                    code="warning_after_close",
                    params={"close": close},
                ),
            )
        return cleaned


class CapacityForm(forms.ModelForm):
    max_chats = forms.IntegerField(
        label=_("capacity (active chats)"),
        min_value=0,
        max_value=100,
        help_text=_("0: this person is never assigned chats automatically."),
        widget=forms.NumberInput(attrs={"class": "narrow"}),
    )

    class Meta:
        model = User
        fields = ["max_chats"]


CapacityFormSet = modelformset_factory(User, form=CapacityForm, extra=0, can_delete=False)


def capacity_formset(members: "QuerySet[User]", data: Any = None) -> "BaseModelFormSet[User, CapacityForm]":
    return CapacityFormSet(data, queryset=members, prefix="capacity")


UNITS = {"minutes": 60, "hours": 60 * 60}
LONGEST_TARGET = 30 * 24 * 60 * 60


class TargetWidget(forms.MultiWidget):
    def __init__(self) -> None:
        super().__init__(
            [
                forms.NumberInput(attrs={"min": "0", "step": "any", "class": "narrow"}),
                forms.Select(choices=[("minutes", _("minutes")), ("hours", _("hours"))]),
            ]
        )

    def decompress(self, value: Any) -> list[Any]:
        """Stored seconds as the form shows them: whole hours in hours, the rest in minutes."""
        if value in (None, ""):
            return [None, "minutes"]
        seconds = int(value)
        if seconds and seconds % UNITS["hours"] == 0:
            return [seconds // UNITS["hours"], "hours"]
        if seconds % UNITS["minutes"] == 0:
            return [seconds // UNITS["minutes"], "minutes"]
        minutes = (Decimal(seconds) / UNITS["minutes"]).quantize(Decimal("0.01"))
        return [f"{minutes.normalize():f}", "minutes"]  # 1.5, never 1.50 or 1.5E+0


class TargetField(forms.MultiValueField):
    """An SLA target typed as a number of minutes or hours, stored in seconds; empty = no target."""

    widget = TargetWidget

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            fields=[
                forms.DecimalField(required=False, max_digits=9, decimal_places=2),
                forms.ChoiceField(choices=[(unit, unit) for unit in UNITS], required=False),
            ],
            require_all_fields=False,
            required=False,
            **kwargs,
        )

    def compress(self, data_list: list[Any]) -> int | None:
        if not data_list or data_list[0] is None:
            return None
        amount, unit = data_list[0], data_list[1] or "minutes"
        seconds = round(amount * UNITS[unit])
        if seconds <= 0:
            raise ValidationError(
                _("Give a number of minutes or hours above zero, or leave it empty for no target."),
                code="not_positive",
            )
        if seconds > LONGEST_TARGET:
            raise ValidationError(_("A target can be at most 30 days (720 hours)."), code="too_long")
        return int(seconds)


SLA_FIELDS = [
    "first_response_seconds",
    "next_response_seconds",
    "resolution_seconds",
    "business_hours_only",
    "warning_percent",
]


class SlaPolicyForm(forms.ModelForm):
    first_response_seconds = TargetField(
        label=_("First response within"),
        help_text=_("From the request for a human to the first operator message. Empty: no target."),
    )
    next_response_seconds = TargetField(
        label=_("Next response within"),
        help_text=_("From a customer's message to the operator's next answer. Empty: no target."),
    )
    resolution_seconds = TargetField(
        label=_("Resolved within"),
        help_text=_("From the request for a human to the close. Empty: no target."),
    )

    class Meta:
        model = SlaPolicy
        fields = SLA_FIELDS
        help_texts = {
            "business_hours_only": _("Time outside business hours and on holidays does not count."),
            "warning_percent": _(
                "Supervisors and the holder are warned when this share of a target has passed."
            ),
        }
