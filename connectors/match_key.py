"""The secret key that turns personal identifiers into matching evidence (HMAC-SHA256).

``DATAVASK_MATCH_KEY`` (any text; use a long random one) when set, else a 32-byte key generated
once per installation in ``$DATAVASK_HOME/match.key`` (``~/.datavask`` by default), created with
permissions 0600 and never logged. Two runs on one installation hash an identifier alike.
"""

from __future__ import annotations

import contextlib
import os
import secrets

from datavask.settings import settings

KEY_FILE = "match.key"


def match_key() -> bytes:
    """The installation's match key (see module docstring)."""
    configured = settings().match_key
    if configured is not None:
        return configured.get_secret_value().encode("utf-8")
    path = settings().home / KEY_FILE
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written in full under a private name, then linked into place: a second process racing this
    # one either links first (and this one reads its key) or reads the complete file.
    temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_hex(32).encode("ascii"))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_bytes()
