"""`python -m scorecard` runs the command line."""

from scorecard.cli import main

raise SystemExit(main())
