"""``python -m simulator`` runs the ``climdisp`` command line."""

import sys

from simulator.ui.cli import main

sys.exit(main())
