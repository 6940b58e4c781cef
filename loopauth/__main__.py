"""``python -m loopauth``."""

from loopauth.cli import main

raise SystemExit(main())
