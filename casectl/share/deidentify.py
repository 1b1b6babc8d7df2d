"""De-identification shared by `report --deidentify` and `export --deidentify`.

Case ids become stable pseudonyms: an HMAC-SHA256 of the id under a random key kept in the data
folder (`.pseudonym-key`, 0600, ignored by git), so the same case gets the same pseudonym on
every run, while nobody without the key can map a pseudonym back by trying every id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = ".pseudonym-key"


def pseudonym_key(data_dir: Path) -> bytes:
    """The data folder's pseudonym key, created on first use."""
    path = data_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


def pseudonym(case_id: str, key: bytes) -> str:
    """A stable pseudonym such as `P-3f9a1c07b2` for a case id."""
    digest = hmac.new(key, case_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"P-{digest[:10]}"
