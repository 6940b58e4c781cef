"""Where loopauth keeps its files (the config directory), and which profile names can be file names."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from ..errors import UsageError

ENV_CONFIG_DIR = "LOOPAUTH_CONFIG_DIR"
# A profile name becomes a file name: no separators, no leading dot (which would
# also let it collide with our hidden lock and temp files), nothing empty.
PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def config_dir() -> Path:
    """``$LOOPAUTH_CONFIG_DIR`` if set and non-empty, else the platform's user config dir."""
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    plain = _plain_xdg_config_dir()
    if plain is not None:
        return plain
    # Imported here so that tools which set the variable (and the tests) never pay for it.
    import platformdirs

    return platformdirs.user_config_path("loopauth")


def _plain_xdg_config_dir() -> Path | None:
    """What ``platformdirs.user_config_path("loopauth")`` answers on Linux, in the plain cases, without it.

    Importing platformdirs loads tempfile, shutil, random, bz2 and lzma: about 30 ms, more than
    the rest of ``loopauth token`` together. An absolute ``$XDG_CONFIG_HOME``, or else an absolute
    ``$HOME``, is all it takes on Linux; anything else (a relative or blank variable, no home,
    another OS) returns None and is left to platformdirs itself. ``tests/test_store.py`` checks
    that both agree for the installed platformdirs.
    """
    if not sys.platform.startswith("linux"):
        return None
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg:
        return Path(xdg, "loopauth") if os.path.isabs(xdg) else None
    if not os.path.isabs(os.environ.get("HOME", "")):
        return None
    return Path(os.path.expanduser("~/.config"), "loopauth")


def validate_profile_name(name: str) -> str:
    """Return *name* if it is safe to use as a file name, else raise UsageError."""
    if not isinstance(name, str) or not PROFILE_RE.fullmatch(name):
        raise UsageError(
            f"invalid profile name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name
