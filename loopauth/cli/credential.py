"""``loopauth credential git|kubectl|docker``: the tools that ask for credentials in their own protocols.

git runs its helper at every fetch and kubectl its plugin at every expiry, so a plain ``credential git`` or
``credential kubectl`` command line is read without argparse (:func:`plain_credential_args`, by :mod:`.plain`), as
``token``'s is; anything else (help, abbreviations, mistakes, ``credential docker``) goes through argparse,
whose definition is in :mod:`.parser`. ``tests/test_credential.py`` checks that both readings agree.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import EXIT_OK
from .plain import Shape, read

TYPE_CHECKING = False  # not typing's: importing typing is a few ms on the path git takes at every fetch
if TYPE_CHECKING:
    import argparse
    from typing import TypedDict

    class CredentialArgs(TypedDict):
        tool: str
        profile: str | None
        hosts: list[str]
        action: str | None
        access_token: bool


GIT = Shape(("credential", "git"), options=("--profile",), repeats=("--host",), positionals=1)
KUBECTL = Shape(("credential", "kubectl"), options=("--profile",), flags=("--access-token",))


def plain_credential_args(argv: Sequence[str]) -> CredentialArgs | None:
    """The arguments of a plain ``credential git … ACTION`` or ``credential kubectl …`` line (:mod:`.plain`);
    anything else returns None, for argparse."""
    for shape in (GIT, KUBECTL):
        plain = read(argv, shape)
        if plain is not None:
            return {
                "tool": shape.words[1],
                "profile": plain.value("--profile"),
                "hosts": plain.values.get("--host", []),
                "action": plain.positionals[0] if plain.positionals else None,
                "access_token": "--access-token" in plain.flags,
            }
    return None


def run_credential(args: CredentialArgs) -> int:
    """Run a ``credential git`` or ``credential kubectl`` command line."""
    if args["tool"] == "git":
        from ..credential.git import git_credential

        assert args["action"] is not None
        return git_credential(args["action"], args["profile"], args["hosts"])
    from ..credential.kubectl import exec_credential

    return exec_credential(args["profile"], access_token=args["access_token"])


class CredentialCommand:
    """``credential TOOL …`` as argparse read it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CredentialCommand:
        return cls(args)

    def run(self) -> int:
        a = self.args
        if a.tool != "docker":
            return run_credential(
                {
                    "tool": a.tool,
                    "profile": a.profile,
                    "hosts": getattr(a, "hosts", []),
                    "action": getattr(a, "action", None),
                    "access_token": getattr(a, "access_token", False),
                }
            )
        from ..credential import docker

        if a.list:
            from ..text import clean

            for server, entry in sorted(docker.registries().items()):
                user = f" (user {entry['username']})" if entry.get("username") else ""
                print(clean(f"{server}  profile {entry['profile']}{user}"))
            return EXIT_OK
        if a.remove is not None:
            if not docker.remove_registry(a.remove):
                print(f"loopauth: {docker.normalize_server(a.remove)} was not mapped", file=sys.stderr)
            else:
                print(f"docker-credential-loopauth no longer answers for {a.remove}", file=sys.stderr)
            return EXIT_OK
        server, profile = docker.add_registry(a.add, a.profile, a.username)
        print(
            f"docker-credential-loopauth answers for {server} with profile '{profile}''s token "
            f'(~/.docker/config.json: "credHelpers": {{"{server}": "loopauth"}})',
            file=sys.stderr,
        )
        return EXIT_OK
