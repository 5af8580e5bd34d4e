"""The site key on this PC, needed to turn a revealed (encrypted) secret back into text."""

from __future__ import annotations

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import EasyIspError
from easyisp_core.settings import get_settings


def default_secret_box() -> SecretBox:
    """The site key from EASYISP_SITE_KEY or the key file; never creates a new key (a new key
    would not open anything already stored)."""
    settings = get_settings()
    if settings.site_key:
        return SecretBox.from_encoded(settings.site_key)
    path = settings.resolved_site_key_file
    if not path.exists():
        raise EasyIspError(
            "This PC does not hold the site key, so stored passwords cannot be shown here. "
            "Reveal the password on the site server's PC."
        )
    return SecretBox.from_encoded(path.read_text().strip())
