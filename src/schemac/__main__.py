from __future__ import annotations

from schemac.cli import main

main()
