"""The one error type digitlab raises for input it cannot use.

Every entry point (library, CLI, app) catches ``DigitlabError`` and shows its
message to the person; anything else escaping is a bug.
"""


class DigitlabError(Exception):
    """Input or data digitlab cannot use; the message says what is wrong and what to do."""


class DataError(DigitlabError):
    """MNIST (or another data file) is missing, truncated or malformed."""


class ImageError(DigitlabError):
    """An image could not be read, or is refused (format, size, content)."""


class NoDigit(DigitlabError):
    """The image holds no digit; the message says why (blank, noise, nothing digit-like)."""
