"""casectl: a caseload tool for case managers, one YAML file per case."""

import os

__version__ = "0.1.0"

# No third-party Pydantic plugin (observability hooks that see every validated value) gets to
# watch case data; and not searching every installed package for plugins saves ~20 ms per run.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
