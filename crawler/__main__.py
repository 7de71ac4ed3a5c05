"""`python -m crawler` is the `bedrock-inventory` command."""

from crawler.cli import main

raise SystemExit(main())
