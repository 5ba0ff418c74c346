"""Errors that services raise for rule violations; every interface turns them into a message
a person understands (a form error, a 400 API answer, a websocket error frame)."""

from __future__ import annotations


class ApplicationError(Exception):
    def __init__(self, message: str, *, code: str = "invalid", extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}
