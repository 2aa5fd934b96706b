"""``python -m simulator`` runs the ``climdisp`` command line."""

import sys

from .cli import main

sys.exit(main())
