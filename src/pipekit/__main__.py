"""``python -m pipekit``: the command line."""

import sys

from pipekit.cli import main

sys.exit(main())
