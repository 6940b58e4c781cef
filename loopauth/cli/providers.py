"""``loopauth providers``: the presets and the user's ``providers.toml``."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from ..errors import EXIT_OK
from ..models import PROTOCOL_LABELS
from ..providers import ALIASES, PRESETS, load_custom, providers_file
from ..store import CredentialStore
from ..text import clean
from .output import print_json

_LABELS = {
    "request_token_url": "request token",
    "authorize_url": "authorize",
    "access_token_url": "access token",
    "token_url": "token",
    "verify_url": "verify",
    "revoke_url": "revoke",
    "signature_method": "signature",
    "client_auth": "client auth",
}


@dataclass(frozen=True)
class ProvidersCommand:
    json_out: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ProvidersCommand:
        return cls(args.json)

    def run(self) -> int:
        path = providers_file(CredentialStore().root)
        custom = load_custom(path)
        entries: list[dict[str, Any]] = []
        for name, provider in PRESETS.items():
            entry: dict[str, Any] = {**provider.to_dict(), "protocol": provider.protocol, "source": "preset"}
            aliases = sorted(alias for alias, target in ALIASES.items() if target == name)
            if aliases:
                entry["aliases"] = aliases
            if name in custom:
                entry["overridden_by"] = str(path)
            entries.append(entry)
        for provider in custom.values():
            entries.append({**provider.to_dict(), "protocol": provider.protocol, "source": str(path)})
        if self.json_out:
            print_json(entries)
            return EXIT_OK
        for i, entry in enumerate(entries):
            notes = [
                PROTOCOL_LABELS[entry["protocol"]],
                "preset" if entry["source"] == "preset" else "providers.toml",
            ]
            if entry.get("aliases"):
                notes.append(f"alias {', '.join(entry['aliases'])}")
            if entry.get("overridden_by"):
                notes.append("overridden by providers.toml")
            # Whatever providers.toml holds reaches the terminal without a control character (--json escapes them).
            print(("\n" if i else "") + f"{clean(entry['name'])} ({'; '.join(notes)})")
            for key, label in _LABELS.items():
                if entry.get(key):
                    print(f"  {label:<14} {clean(entry[key])}")
            if entry.get("scopes"):
                print(f"  {'scopes':<14} {clean(' '.join(entry['scopes']))}")
            if entry.get("authorize_params"):
                params = " ".join(f"{k}={v}" for k, v in entry["authorize_params"].items())
                print(f"  {'authorize with':<14} {clean(params)}")
        print(f"\nCustom providers: {path}", file=sys.stderr)
        return EXIT_OK
