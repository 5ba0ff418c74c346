"""Errors that services raise for rule violations; every interface turns them into a message
a person understands (a form error, a 400 API answer, a websocket error frame)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404


class ApplicationError(Exception):
    def __init__(self, message: str, *, code: str = "invalid", extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


class NotFound(Http404):
    """The object does not exist *or* the caller may not know it exists: both answer the
    same, so nobody can probe for other companies' private objects."""


class Forbidden(PermissionDenied):
    """The caller may see the object but not do this to it (e.g. sales staff editing the
    catalogue)."""
