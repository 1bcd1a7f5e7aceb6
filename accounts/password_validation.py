"""Password rules beyond Django's: nothing built on the site's name or on a common
password dressed up with capitals, digits or symbols (``Passw0rd!``, ``parley123``)."""

import re

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

#: Letters people swap for look-alike digits and symbols.
_LEET = str.maketrans("013457@$!", "oieastasi")
_SITE_WORDS = ("parley",)


class SiteAndPatternValidator:
    """Refuses passwords containing the site's name, or that are a common password once
    look-alike characters are read as letters and trailing digits and symbols dropped."""

    def __init__(self, site_words: tuple[str, ...] = _SITE_WORDS):
        self.site_words = tuple(word.casefold() for word in site_words)
        self._common = CommonPasswordValidator().passwords

    def _variants(self, password: str) -> set[str]:
        lowered = password.casefold().strip()
        trimmed = re.sub(r"[\W\d_]+$", "", lowered)  # "password123!" -> "password"
        return {
            lowered,
            trimmed,
            lowered.translate(_LEET),
            trimmed.translate(_LEET),
            re.sub(r"[\W\d_]+$", "", lowered.translate(_LEET)),
            re.sub(r"[\W_]+$", "", lowered).translate(_LEET).rstrip("i"),
        }

    def validate(self, password: str, user=None) -> None:
        variants = self._variants(password)
        if any(word in variant for word in self.site_words for variant in variants):
            raise ValidationError(
                "This password contains the site's name.", code="password_contains_site_name"
            )
        if any(variant in self._common for variant in variants if variant):
            raise ValidationError(
                "This password is a common password with a few characters changed.",
                code="password_too_common",
            )

    def get_help_text(self) -> str:
        return "Your password can't contain the site's name or be a disguised common password."
