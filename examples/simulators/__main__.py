"""Run ``python -m simulators ...``; see :mod:`simulators.cli`."""

import sys

from .cli import main

sys.exit(main())
