"""The one error the clinical library raises when its input cannot be scored or classified."""

from __future__ import annotations


class ClinicalInputError(ValueError):
    """Input a clinical calculation cannot use.

    The message is one plain sentence saying what is wrong and what to do, ready to show a case
    manager as it is.
    """
