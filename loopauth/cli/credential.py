"""``loopauth credential git|kubectl|docker``: the tools that ask for credentials in their own protocols.

git runs its helper at every fetch and kubectl its plugin at every expiry, so a plain ``credential git`` or
``credential kubectl`` command line is read here without argparse (:func:`plain_credential_args`), as
``token``'s is; anything else (help, abbreviations, mistakes, ``credential docker``) goes through argparse,
whose definition is in :mod:`.parser`. ``tests/test_credential.py`` checks that both readings agree.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import EXIT_OK

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


def plain_credential_args(argv: Sequence[str]) -> CredentialArgs | None:
    """The arguments of a plain ``credential git … ACTION`` or ``credential kubectl …`` line, read without argparse.

    Plain means: only full option names, ``--profile`` at most once, no value that starts with '-', and for git
    exactly one action. Anything else returns None, for argparse, which has the answers and the errors.
    """
    if len(argv) < 2 or argv[0] != "credential" or argv[1] not in ("git", "kubectl"):
        return None
    tool = argv[1]
    options = ("--profile", "--host") if tool == "git" else ("--profile",)
    args: CredentialArgs = {"tool": tool, "profile": None, "hosts": [], "action": None, "access_token": False}
    rest = list(argv[2:])
    while rest:
        word = rest.pop(0)
        name, eq, value = word.partition("=")
        if name in options:
            if not eq:
                if not rest or rest[0].startswith("-"):
                    return None
                value = rest.pop(0)
            if name == "--host":
                args["hosts"].append(value)
            elif args["profile"] is not None:
                return None
            else:
                args["profile"] = value
        elif tool == "kubectl" and word == "--access-token" and not args["access_token"]:
            args["access_token"] = True
        elif tool == "git" and args["action"] is None and word and not word.startswith("-"):
            args["action"] = word
        else:
            return None
    if tool == "git" and args["action"] is None:
        return None
    return args


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
