"""The one reader of command lines that skip argparse: those other programs run at every start or keystroke.

``token`` (tools, at every start), ``credential git`` and ``credential kubectl`` (git at every fetch, kubectl
at every expiry) and ``completion --profiles|--providers`` (a shell, at every <TAB>) are read here, each by
its :class:`Shape`; :func:`loopauth.cli._dispatch` is the one place that asks. Only a *plain* line is read:
full option names, each at most once unless it repeats, a value that does not start with '-', the right number
of free words. Anything else (help, abbreviations, mistakes) is None and goes through argparse, which has the
answers and the error messages; the tests check that both readings agree.

Standard library only, and not even ``typing`` or ``dataclasses``: this runs before anything else is imported.
"""

from __future__ import annotations

from collections.abc import Sequence


class Shape:
    """What a plain command line of one (sub)command may hold."""

    __slots__ = ("flags", "options", "positionals", "repeats", "words")

    def __init__(
        self,
        words: tuple[str, ...],
        *,
        options: tuple[str, ...] = (),
        repeats: tuple[str, ...] = (),
        flags: tuple[str, ...] = (),
        positionals: int = 0,
    ) -> None:
        self.words = words
        """The command's own words: ``("token",)``, ``("credential", "git")``."""
        self.options = options
        """Options that take a value (``--profile P`` or ``--profile=P``), each at most once."""
        self.repeats = repeats
        """Options that take a value and may be given again (``--host``), their values in order."""
        self.flags = flags
        """Options without a value, each at most once."""
        self.positionals = positionals
        """How many free words (not empty, not starting with '-') the line has: exactly this many."""


class Plain:
    """A plain command line, read: the values of its options, its flags and its free words."""

    __slots__ = ("flags", "positionals", "values")

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}
        self.flags: set[str] = set()
        self.positionals: list[str] = []

    def value(self, option: str) -> str | None:
        """The value of an option given at most once, or None when it was not given."""
        given = self.values.get(option)
        return given[0] if given else None


def read(argv: Sequence[str], shape: Shape) -> Plain | None:
    """``argv`` read by ``shape``, or None when it is not a plain line of that command."""
    if tuple(argv[: len(shape.words)]) != shape.words:
        return None
    plain = Plain()
    rest = list(argv[len(shape.words) :])
    while rest:
        word = rest.pop(0)
        name, eq, value = word.partition("=")
        if name in shape.flags and not eq:
            if name in plain.flags:
                return None
            plain.flags.add(name)
        elif name in shape.options or name in shape.repeats:
            if name in plain.values and name not in shape.repeats:
                return None
            if not eq:
                if not rest or rest[0].startswith("-"):
                    return None
                value = rest.pop(0)
            plain.values.setdefault(name, []).append(value)
        elif word and not word.startswith("-") and len(plain.positionals) < shape.positionals:
            plain.positionals.append(word)
        else:
            return None
    if len(plain.positionals) != shape.positionals:
        return None
    return plain
