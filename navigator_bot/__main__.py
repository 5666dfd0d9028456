"""Allow `python -m navigator_bot`."""

from .cli import main

raise SystemExit(main())
