"""``PINTEREST_LOG=debug|info|warning|error``: the SDK's log lines on stderr, without writing any logging code.

Read once, when ``aiopinterest`` is first imported; a program that configures logging itself does not need it.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

LOGGER_NAME = "aiopinterest"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _EnvironmentHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``PINTEREST_LOG`` installs; its class marks it, so that it is installed only once."""


def configure_from_environment(value: str | None = None) -> logging.Handler | None:
    """Send the ``aiopinterest`` logger's records at and above the level ``PINTEREST_LOG`` names to stderr.

    ``value`` replaces the environment variable (for tests). Returns the handler, or ``None`` when the variable
    is unset or empty. An unknown level is ignored with a warning that lists the accepted ones.
    """
    if value is None:
        value = os.environ.get("PINTEREST_LOG")
    if not value:
        return None
    level = _LEVELS.get(value.strip().lower())
    if level is None:
        warnings.warn(
            f"PINTEREST_LOG={value!r} is not a level; use one of {', '.join(_LEVELS)}",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    logger = logging.getLogger(LOGGER_NAME)
    handler = next((h for h in logger.handlers if isinstance(h, _EnvironmentHandler)), None)
    if handler is None:
        handler = _EnvironmentHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        logger.addHandler(handler)
    logger.setLevel(level)
    return handler
