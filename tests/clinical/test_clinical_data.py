"""The packaged reference tables must be the published ones, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGED = Path(__file__).parents[2] / "casectl" / "data"
# The shared reference set sits beside the repository: <repo>/../shared/reference.
REFERENCE = Path(__file__).parents[2].parent / "shared" / "reference"
FILES = [
    "aap2017/bp_tables_4_5.csv",
    "aap2017/screening_table_6.csv",
    "cdc2000/bmiagerev.csv",
    "cdc2000/statage.csv",
    "cdc2000/wtage.csv",
]


@pytest.mark.parametrize("name", FILES)
def test_packaged_table_is_byte_identical_to_the_reference(name: str) -> None:
    if not REFERENCE.is_dir():
        pytest.skip(f"the shared reference set is not at {REFERENCE}")
    assert (PACKAGED / name).read_bytes() == (REFERENCE / name).read_bytes()


@pytest.mark.parametrize("folder", ["aap2017", "cdc2000", "who2006"])
def test_each_table_folder_cites_its_source(folder: str) -> None:
    readme = (PACKAGED / folder / "README.md").read_text(encoding="utf-8")
    assert "Source:" in readme
