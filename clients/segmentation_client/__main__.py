"""`python -m segmentation_client`: the same as the `segmentation-client` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
