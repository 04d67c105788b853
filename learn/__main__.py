"""``python -m blurd.learn``: see ``blurd.learn.cli``."""

import sys

from .cli import main

sys.exit(main())
