"""``loopauth token``: the call other tools make at every start, so it costs little more than reading a file.

A plain ``token`` command line is read without argparse (:func:`plain_token_args`, by :mod:`.plain`); this
module imports nothing but the store and the protocols' :class:`~loopauth.access.Access`.
``tests/test_fastpath.py`` checks that both readings agree and that no heavy module is loaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ..errors import EXIT_OK, UsageError
from ..fresh import load_fresh
from ..protocols import access_for
from .plain import Shape, read

TYPE_CHECKING = False  # not typing's: importing typing is a few ms on the token path
if TYPE_CHECKING:
    from typing import TypedDict

    class TokenArgs(TypedDict):
        profile: str | None
        json_out: bool
        field: str | None
        prefix: str


# What json.dumps(ensure_ascii=False) leaves raw and a terminal may act on: DEL and the C1 controls (0x9b is a
# CSI) and the bidirectional overrides. As \uXXXX escapes the JSON means exactly the same; C0 it escapes itself.
_JSON_RAW = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The same and C0 (text._CONTROL, not imported: this is the fast path): never printed raw by --env or --field.
# Providers' values are cleaned before they are stored; this covers profiles stored before that (a raw scope).
_TERMINAL_RAW = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text(data: object) -> str:
    """``data`` as indented JSON that is safe to print on a terminal and parses to the same value."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, indent=2, ensure_ascii=False))


DEFAULT_PREFIX = "LOOPAUTH_"


def print_token(
    profile: str | None, *, json_out: bool = False, field: str | None = None, prefix: str = DEFAULT_PREFIX
) -> int:
    """Print ``profile``'s credentials (the active profile's when None): shell ``export`` lines (the default), one
    JSON object, or one field.

    An OAuth 2.0 profile's access token is refreshed first when it is due; its refresh token is never printed.
    """
    # The arguments first: load_fresh may refresh, and a bad argument must not cost a network call (or fail on one).
    if field == "refresh_token":
        raise UsageError("the refresh token never leaves loopauth: it rotates, and loopauth refreshes for you")
    if not json_out and not field:
        check_prefix(prefix)
    creds = load_fresh(profile)
    data = creds.token_dict()
    names = access_for(creds).env_fields
    if json_out:
        print(json_text(data))
    elif field:
        if field not in data or isinstance(data[field], dict):
            raise UsageError(f"unknown field {field!r} (choose from {', '.join(names)})")
        value = data[field]
        print("" if value is None else _TERMINAL_RAW.sub(" ", str(value)))
    else:
        for name, value in env_pairs(data, names, prefix):
            print(f"export {name}={_quote(_TERMINAL_RAW.sub(' ', value))}")
    return EXIT_OK


def env_pairs(data: dict[str, object], names: Sequence[str], prefix: str) -> list[tuple[str, str]]:
    """(variable, value) for each field that has a value: ``LOOPAUTH_OAUTH_TOKEN`` and the like."""
    check_prefix(prefix)
    return [(f"{prefix}{name.upper()}", str(data[name])) for name in names if data.get(name) is not None]


def check_prefix(prefix: str) -> None:
    if (prefix and not (prefix[0].isalpha() or prefix[0] == "_")) or not prefix.replace("_", "a").isalnum():
        raise UsageError(f"--prefix must be a valid shell variable prefix, got {prefix!r}")


def _quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


TOKEN = Shape(("token",), options=("--profile", "--field", "--prefix"), flags=("--json", "--env"))


def plain_token_args(argv: Sequence[str]) -> TokenArgs | None:
    """``print_token``'s arguments for a plain ``token`` command line (:mod:`.plain`): at most one of ``--json``,
    ``--env`` and ``--field``, as argparse's group says. Anything else returns None, for argparse."""
    plain = read(argv, TOKEN)
    if plain is None or len(plain.flags) + ("--field" in plain.values) > 1:
        return None
    return {
        # None: the active profile, resolved by the store (one small file read, no argparse).
        "profile": plain.value("--profile"),
        "json_out": "--json" in plain.flags,
        "field": plain.value("--field"),
        "prefix": plain.values.get("--prefix", [DEFAULT_PREFIX])[0],
    }
