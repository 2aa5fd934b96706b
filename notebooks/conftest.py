"""pytest --nbmake runs every notebook here top to bottom; this makes them use their small size.

Each notebook reads ``CLIMDISP_NOTEBOOK_SMALL`` in its first cell: ``1`` runs a smaller, shorter
version (fewer steps, replicates or sweep runs). Set it to ``0`` to test the full notebooks.
"""

import os

os.environ.setdefault("CLIMDISP_NOTEBOOK_SMALL", "1")
