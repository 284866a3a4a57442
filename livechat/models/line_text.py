"""How LINE measures a text: in UTF-16 code units, not characters. An emoji outside the Basic
Multilingual Plane (😊, 🙏) counts 2, so 5,000 of them are 10,000 units and LINE refuses them.
Every limit on a text that goes to LINE (operator sends, canned responses, bot texts, the
simulator) is checked with `line_length`."""

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
