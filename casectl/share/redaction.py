"""What an export may show: everything, or — de-identified — nothing that names the client.

A de-identified export has no names (client, family, care team, case manager, organisations),
no contacts or addresses, no date of birth (the age in completed years instead) and no free text
a person wrote; the case id becomes its stable pseudonym (`casectl.share.deidentify`). Coded values,
numbers and the dates of records stay: they are what makes the export worth analysing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Redaction:
    """Identified when `pseudonym` is None; otherwise de-identified under that pseudonym."""

    pseudonym: str | None = None

    @property
    def deidentified(self) -> bool:
        return self.pseudonym is not None

    def text(self, value: str | None) -> str | None:
        """A name, contact or piece of free text, or None when it must not be shown."""
        return None if self.deidentified else value

    def case_id(self, case_id: str) -> str:
        """The case id, or its pseudonym."""
        return self.pseudonym or case_id


IDENTIFIED = Redaction()
