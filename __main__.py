"""``python -m tiebreak``: the same entry point as the ``tiebreak`` command (no command opens the app)."""

import sys

from tiebreak.gui.launcher import main

if __name__ == "__main__":
    sys.exit(main())
