"""``python -m pipekit``: the command line (see :mod:`pipekit.cli`)."""

import sys

from pipekit.cli import main

__all__: list[str] = []

sys.exit(main())
