"""Who may enter the organisers' area: members of the organisers group (and superusers).

Everyone else gets the same "not found" as for a page that does not exist, so the area does
not announce itself; a signed-out visitor is sent to the log-in page first."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from fair.exceptions import NotFound


def organiser_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_organiser:
            raise NotFound("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


class IsOrganiser(BasePermission):
    """DRF: anonymous callers get 403 (no session), others the same 404 as a missing page."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if not user.is_organiser:
            raise NotFound("No such page.")
        return True
