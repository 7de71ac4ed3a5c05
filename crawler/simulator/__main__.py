"""``python -m crawler.simulator --scenario demo``: serve a scenario until interrupted."""

from .serve import main

raise SystemExit(main())
