"""The roles a user may have, each with every right of the roles before it; stdlib only.

Here rather than in ``services.auth`` so the command line can offer them
without importing the service layer.
"""

from __future__ import annotations

VIEWER, ANALYST, ADMIN = ROLES = ("viewer", "analyst", "admin")
