"""What a case id may look like: shared by the model and the store, importable without either."""

from __future__ import annotations

import re

# Letters, digits, dot, dash and underscore; starts with a letter or digit. Nothing that could
# name a parent directory, a hidden file or an absolute path.
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
