"""`python -m orchestrator` runs the CLI."""

import sys

from orchestrator.cli.main import main

sys.exit(main())
