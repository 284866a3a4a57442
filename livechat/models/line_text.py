"""How LINE measures a text: in UTF-16 code units, not characters. An emoji outside the Basic
Multilingual Plane (😊, 🙏) counts 2, so 5,000 of them are 10,000 units and LINE refuses them.
Every limit on a text that goes to LINE (operator sends, canned responses, bot texts, the
simulator) is checked with `line_length`."""

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_TEXT_UNITS = 5000  # a text message, as LINE counts


def line_length(text: str) -> int:
    """The text's length as LINE counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def validate_line_text(text: str) -> None:
    """Model and form validator: the text fits in one LINE text message."""
    length = line_length(text)
    if length > MAX_TEXT_UNITS:
        raise ValidationError(
            _("LINE counts this text as %(length)d characters (emoji count 2); at most %(limit)d.")
            % {"length": length, "limit": MAX_TEXT_UNITS},
            code="too_long_for_line",
        )


class _Kept(dict[str, object]):
    """A placeholder nobody filled in stays as written, braces and all."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill_in(template: str, **values: object) -> str:
    """`template` with its {placeholders} filled in. A text an admin typed must never stop the
    bot: an unknown placeholder is left as written, and a stray brace leaves the text as it is."""
    try:
        return template.format_map(_Kept(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


class PlaceholderValidator:
    """Model and form validator: the text uses only the placeholders that will be filled in."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def __call__(self, text: str) -> None:
        try:
            used = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
        except ValueError:
            raise ValidationError(_("Write { and } in pairs around a placeholder."), code="braces") from None
        unknown = sorted(used - set(self.names))
        if unknown:
            raise ValidationError(
                _("Unknown placeholder %(unknown)s; this text may use %(known)s.")
                % {
                    "unknown": ", ".join("{" + n + "}" for n in unknown),
                    "known": ", ".join("{" + n + "}" for n in self.names) or "-",
                },
                code="unknown_placeholder",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlaceholderValidator) and other.names == self.names

    def deconstruct(self) -> tuple[str, tuple[str, ...], dict[str, object]]:
        return ("livechat.models.line_text.PlaceholderValidator", self.names, {})
