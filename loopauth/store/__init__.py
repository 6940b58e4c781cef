"""Where logins are kept: a file per profile and, opt-in, its secrets in the OS keyring; the one place that locks.

:class:`CredentialStore` (and :class:`Held`, a profile whose lock is held) is the face; each piece has one job:

- :mod:`.trusted`: files nobody else controls: descriptor checks, bounded reads (``providers.toml`` and
  ``config.toml`` are read so too), atomic 0600 writes, 0700 directories;
- :mod:`.lock`: the lock around each write;
- :mod:`.active`: the config directory, the names a profile may have, the active profile (``$LOOPAUTH_PROFILE``,
  ``loopauth switch``);
- :mod:`.backends` and :mod:`.keyring`: the file and keyring stores behind one interface (and reading a profile
  file's object as credentials);
- :mod:`.choice`: which store a login uses (``--store``, ``$LOOPAUTH_STORE``, ``config.toml``);
- :mod:`.profiles`: :class:`CredentialStore` and :class:`Held`, which put them together.
"""

from __future__ import annotations

from .active import DEFAULT_PROFILE, ENV_CONFIG_DIR, ENV_PROFILE, config_dir, validate_profile_name
from .backends import FILE, KEYRING, STORES
from .lock import LOCK_TIMEOUT
from .profiles import PROBE_SIZE, CredentialStore, Held, Location, ProfileEntry, claim_active
from .trusted import MAX_FILE, read_trusted_file

__all__ = [
    "DEFAULT_PROFILE",
    "ENV_CONFIG_DIR",
    "ENV_PROFILE",
    "FILE",
    "KEYRING",
    "LOCK_TIMEOUT",
    "MAX_FILE",
    "PROBE_SIZE",
    "STORES",
    "CredentialStore",
    "Held",
    "Location",
    "ProfileEntry",
    "claim_active",
    "config_dir",
    "read_trusted_file",
    "validate_profile_name",
]
