"""The data directory: case files on disk, their locks, and safe atomic writes."""

from casectl.store.store import CaseStore, LoadedCase, dump_case, write_atomic

__all__ = ["CaseStore", "LoadedCase", "dump_case", "write_atomic"]
