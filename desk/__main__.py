"""`python -m desk import leads|owners FILE`, `python -m desk export leads OUT.xlsx`:
see desk.cli (and `python -m desk --help`)."""

from desk.cli import main

raise SystemExit(main())
