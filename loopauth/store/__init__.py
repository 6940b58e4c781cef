"""Where logins are kept: profiles on disk and, opt-in, their secrets in the OS keyring; the one place that locks.

:class:`CredentialStore` and :class:`Held` are the face; :mod:`.profiles` has them.
"""

from __future__ import annotations

from .profiles import (
    DEFAULT_PROFILE,
    ENV_CONFIG_DIR,
    ENV_PROFILE,
    FILE,
    KEYRING,
    LOCK_TIMEOUT,
    MAX_FILE,
    PROBE_SIZE,
    STORES,
    CredentialStore,
    Held,
    Location,
    ProfileEntry,
    config_dir,
    read_trusted_file,
    validate_profile_name,
)

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
    "config_dir",
    "read_trusted_file",
    "validate_profile_name",
]
