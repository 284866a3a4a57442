"""Signals of the background jobs, for apps that keep something current alongside them
(livechat never imports those apps: they connect here)."""

from django.dispatch import Signal

# Sent after each `cleanup` pass, with `now` (aware datetime) and `dry_run` (bool).
cleanup_pass = Signal()
