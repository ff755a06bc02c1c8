"""``python -m scanner``: the same command line as ``qgov``."""

import sys

from scanner.cli import main

sys.exit(main())
