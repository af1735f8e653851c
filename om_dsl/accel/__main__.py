"""``python -m om_dsl.accel build | status | clean`` (see :mod:`om_dsl.accel.build`)."""

from om_dsl.accel.build import main

raise SystemExit(main())
