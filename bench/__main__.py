"""``python -m bench``: run the key benchmark (see bench/README.md)."""

from bench.keys import main

raise SystemExit(main())
