"""The OpenAPI schema of every API view documents its error answers too, not only success.

What the project's views answer on error (``fair.api.exceptions`` and DRF):

* 400: a ``Serializer`` refused the input (``{field: [messages]}``, nested objects for nested
  fields, ``non_field_errors`` for the whole), or a service refused the request
  (``ApplicationError``: ``{"detail", "code", ...}``), or the body could not be parsed.
* 403: not signed in (session authentication sends no challenge, so never 401), CSRF token
  missing, a role that may not do it, or two-step verification still pending
  (``fair.middleware.MfaRequiredMiddleware`` answers every ``/api/`` path).
* 404: an object that does not exist or is not the caller's (one answer for both), or a
  page number past the last page of a list (DRF's pagination).
* 415: a request body in a media type the operation does not read.
* 429: a throttle (every view has the anonymous and user throttles).

Schemathesis (``tests/fair/test_api_fuzz.py``) checks that every status a view answers is
documented here and that every body matches its schema."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error that is not about one field.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "code": {"type": "string", "description": "What went wrong, for programs."},
    },
    "required": ["detail"],
}

VALIDATION_ERROR_SCHEMA = {
    "description": (
        "The input was refused: either the messages per field (a list of texts; an object "
        "for a nested field or a list's items; ``non_field_errors`` for the whole input), or "
        "an error about the request as a whole (``detail`` and ``code``)."
    ),
    "anyOf": [
        {"$ref": "#/components/schemas/Error"},
        {
            "type": "object",
            "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "object"}]},
        },
    ],
}

ERROR_DESCRIPTIONS = {
    "400": "The input or a rule of the fair refused the request.",
    "403": (
        "Not signed in, CSRF token missing, not allowed for the caller's role, or two-step "
        "verification pending."
    ),
    "404": "No such object, not one the caller may see, or no such page.",
    "415": "The request body is in a media type this operation does not read.",
    "429": "Too many requests: wait and retry.",
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers every operation can give. A view
    whose body names other objects by id adds ``error_codes = ("404",)``."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = self._component("Error", ERROR_SCHEMA)
        validation_error = self._component("ValidationError", VALIDATION_ERROR_SCHEMA)
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        codes = {"403": error, "429": error}
        if has_body or self.method != "GET" or any(p["in"] == "query" for p in parameters):
            codes["400"] = validation_error
        if has_body:
            codes["415"] = error
        if (
            any(p["in"] == "path" for p in parameters)
            or any(p["in"] == "query" and p["name"] == "page" for p in parameters)
            or "404" in getattr(self.view, "error_codes", ())
        ):
            # Path ids, a page past the end, and ids in a body (a view that looks one up
            # says so in ``error_codes``).
            codes["404"] = error
        responses = operation.setdefault("responses", {})
        for code, schema in codes.items():
            responses.setdefault(
                code,
                {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": schema}},
                },
            )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
        )
        self.registry.register_on_missing(component)
        return component.ref
