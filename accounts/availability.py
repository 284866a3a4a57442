"""Operators' availability periods (online / away / offline), recorded for analytics."""

from django.db import transaction
from django.utils import timezone

from accounts.models import AvailabilityPeriod


def start(operator_id: int, status: str) -> None:
    """Close whatever period is open and open one with `status`."""
    now = timezone.now()
    with transaction.atomic():
        AvailabilityPeriod.objects.filter(operator_id=operator_id, ended_at__isnull=True).update(ended_at=now)
        AvailabilityPeriod.objects.create(operator_id=operator_id, status=status, started_at=now)


def end(operator_ids: list[int]) -> None:
    """The operators went offline."""
    AvailabilityPeriod.objects.filter(operator_id__in=operator_ids, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
