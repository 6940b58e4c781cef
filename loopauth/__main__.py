"""``python -m loopauth``."""

from loopauth.cli import run

run()
