"""A keyring backend that writes passwords to a plaintext file, as keyrings.alt's PlaintextKeyring does.

The keyring tests point ``PYTHON_KEYRING_BACKEND`` and ``keyringrc.cfg`` at it (with ``PYTHONPATH``) to check
that loopauth never lets keyring's own backend selection pick where secrets go. Its priority beats every
real backend, so ``keyring.get_keyring()`` would choose it even without being told to. The file is
``$LOOPAUTH_TEST_PLAINTEXT_KEYRING``; a test asserts that it never comes to exist.

Only child processes import it (through ``PYTHONPATH``): keyring keeps every backend class it has ever seen
in a registry, so importing it into the test process would make it every later ``get_keyring()``'s choice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties

ENV_FILE = "LOOPAUTH_TEST_PLAINTEXT_KEYRING"


class Keyring(KeyringBackend):
    """Plaintext passwords in one JSON file."""

    @properties.classproperty
    def priority(cls) -> float:
        return 100

    def _path(self) -> Path:
        return Path(os.environ[ENV_FILE])

    def _read(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}
        return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data[f"{service}\0{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        data.pop(f"{service}\0{username}", None)
        self._path().write_text(json.dumps(data))
