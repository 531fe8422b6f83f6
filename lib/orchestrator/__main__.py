"""`python -m orchestrator` runs the CLI."""

import sys

from orchestrator.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
