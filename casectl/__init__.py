"""casectl: a caseload tool for case managers, one YAML file per case."""

__version__ = "0.1.0"
