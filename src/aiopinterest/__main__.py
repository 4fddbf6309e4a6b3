"""``python -m aiopinterest``: the ``aiopinterest`` command."""

import sys

from aiopinterest.cli import main

sys.exit(main())
