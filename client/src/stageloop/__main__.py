"""`python -m stageloop` is the `stageloop` command."""

from stageloop.cli import main

raise SystemExit(main())
