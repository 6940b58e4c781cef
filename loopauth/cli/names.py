"""``loopauth completion --profiles`` and ``--providers``: the names a completion script offers, one a line.

A shell runs this at every <TAB> after ``--profile`` or ``--provider``, so, like ``token``, it is read without
argparse (:func:`loopauth.cli._dispatch`) and imports only what the names need: the store's directory listing
for profiles (no file is read), the presets and ``providers.toml`` for providers. Asking Python rather than
listing ``<config>/profiles/*.json`` in the shell keeps one definition of where the config directory is
(``$LOOPAUTH_CONFIG_DIR``, XDG, macOS's own) and of which names are profiles, and the same trust checks.
A completion never prints an error: it would land in the middle of the user's command line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from ..errors import EXIT_OK, LoopAuthError
from ..store import CredentialStore
from .plain import Shape, read

FLAGS = ("--profiles", "--providers")
NAMES = Shape(("completion",), flags=FLAGS)


def plain_names_flag(argv: Sequence[str]) -> str | None:
    """The one flag of a plain ``completion --profiles`` or ``--providers`` line (:mod:`.plain`), else None."""
    plain = read(argv, NAMES)
    return next(iter(plain.flags)) if plain is not None and len(plain.flags) == 1 else None


def print_names(flag: str) -> int:
    store = CredentialStore()
    names: list[str] = []
    # An unusable config dir: offer nothing rather than an error mid-line.
    with contextlib.suppress(LoopAuthError, OSError):
        names = store.names() if flag == "--profiles" else provider_names(store)
    if names:
        print("\n".join(names))
    return EXIT_OK


def provider_names(store: CredentialStore) -> list[str]:
    """Presets, their aliases and the tables of ``providers.toml`` (the presets alone when it is malformed)."""
    from ..providers import ALIASES, PRESETS, load_custom, providers_file

    names = {*PRESETS, *ALIASES}
    with contextlib.suppress(LoopAuthError):
        names.update(load_custom(providers_file(store.root)))
    return sorted(names)
