"""What the LINE simulator remembers: every call made to it, and single-use keys it consumed.

Kept in the database, not in process memory, so that several daphne processes (and the test
server thread) agree on which reply tokens and retry keys were already used.
"""

from django.db import models


class SimulatorCall(models.Model):
    """One request the app made to the simulated Messaging API, and what it was answered."""

    endpoint = models.CharField(max_length=40)  # "reply", "push", "profile", "content", …
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    headers = models.JSONField(default=dict)
    body = models.JSONField(null=True, blank=True)
    user_id = models.CharField(max_length=64, blank=True, db_index=True)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)  # the X-Line-Request-Id it was answered with
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} → {self.response_status}"


class SimulatorUsedKey(models.Model):
    """A reply token or X-Line-Retry-Key that LINE would refuse to accept twice."""

    key = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=12)  # "reply_token" | "retry_key"
    # For a retry key: the sentMessages of the push it was accepted with. LINE answers a second
    # push with the same key 409 and these, so the sender learns the ids of what went out.
    sent_messages = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)  # of that push: X-Line-Accepted-Request-Id
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class SimulatorFault(models.Model):
    """An instruction to fail the next `remaining` calls (optionally of one endpoint)."""

    endpoint = models.CharField(max_length=40, blank=True)  # blank = any endpoint
    status = models.PositiveSmallIntegerField(default=500)  # 429, 500, … or 0 for delay only
    delay_seconds = models.FloatField(default=0)
    html = models.BooleanField(default=False)  # an HTML error page instead of LINE's JSON
    remaining = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"fail {self.endpoint or '*'} ×{self.remaining} with {self.status}"


class SimulatorProfile(models.Model):
    """A fake LINE user the phone page plays (and the profile API answers for)."""

    user_id = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=200)
    picture_url = models.URLField(max_length=1000, blank=True)
    status_message = models.CharField(max_length=500, blank=True)
    language = models.CharField(max_length=16, default="th")
    # LINE shows a profile only to an account the user has as a friend: one who blocked the
    # account (unfollowed) is a 404, like a user LINE never heard of.
    is_friend = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name


class SimulatorContent(models.Model):
    """The bytes behind an image/video/audio/file message a fake user sent."""

    message_id = models.CharField(max_length=64, unique=True)

    class Transcoding(models.TextChoices):
        """LINE prepares a user's video or audio before it can be downloaded."""

        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    content_type = models.CharField(max_length=100, default="application/octet-stream")
    data = models.BinaryField()
    transcoding = models.CharField(max_length=12, choices=Transcoding.choices, default=Transcoding.SUCCEEDED)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"content {self.message_id}"


class SimulatorQuota(models.Model):
    """The channel's monthly target limit for pushed messages (one row; none = no limit).

    Replies are free at LINE and do not count; a push counts once per recipient, however many
    message objects it carries (LINE counts messages by the people they reach).
    """

    limit = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"quota {self.limit if self.limit is not None else 'none'}"
