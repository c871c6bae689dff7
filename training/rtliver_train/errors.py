"""User-facing failures: like the TypeScript RtLiverError, a message that names the problem (and the file)
and a hint that says what to do."""

from __future__ import annotations

from typing import Optional


class TrainingError(Exception):
    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(f"{message} {hint}" if hint else message)
        self.message = message
        self.hint = hint


class DataError(TrainingError):
    """Bad or missing training data: shape/affine mismatch, missing liver label, empty split."""
