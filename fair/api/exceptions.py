"""DRF error answers: ApplicationError and Django ValidationError become 400s with readable
messages; refused access (401, 403, 404) is logged (``fair.security_log``)."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from fair import security_log
from fair.exceptions import ApplicationError

#: Answers logged as refused access (SECURITY J2).
DENIED_STATUSES = frozenset({401, 403, 404})


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(
            {"detail": exc.message, "code": exc.code, **exc.extra},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        # A service's model validation: a 400 with the messages per field.
        if hasattr(exc, "error_dict"):
            detail = {
                (api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name): msgs
                for name, msgs in exc.message_dict.items()
            }
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code in DENIED_STATUSES:
        security_log.api_denied(
            context.get("request"), context.get("view"), exc, response.status_code
        )
    return response
