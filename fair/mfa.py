"""Two-step verification (SECURITY B7): organisers and exhibitor owners/admins confirm each
sign-in with a code from an authenticator app (TOTP, 30-second steps, one step of clock
drift either way). A code is accepted once only (the device remembers the last step used),
and after ``MFA_MAX_FAILURES`` wrong codes within ``MFA_LOCK_SECONDS`` the account's
verification is locked for that long, right codes included.

Who must verify is who gets the short session timeouts (``fair.session_limits``). With
``MFA_REQUIRED`` off (the embedded demo's default, and the test settings: MFA tests turn it
on) nobody is asked."""

from __future__ import annotations

import base64
import hashlib
import time

import pyotp
import segno
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fair.exceptions import ApplicationError
from fair.models import TotpDevice, User

SESSION_MFA_AT = "_cf_mfa_at"
ISSUER = "CloudFair"


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"cloudfair-totp:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _secret(device: TotpDevice) -> str:
    return _fernet().decrypt(device.secret_encrypted.encode()).decode()


def device_for(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user).first()


def device_pending(user: User) -> tuple[TotpDevice, str]:
    """The user's unconfirmed device (made now if there is none) and its secret, for the
    set-up page. A confirmed device is never replaced here."""
    device = device_for(user)
    if device is None:
        secret = pyotp.random_base32()
        device = TotpDevice.objects.create(
            user=user, secret_encrypted=_fernet().encrypt(secret.encode()).decode()
        )
        return device, secret
    if device.confirmed_at is not None:
        raise ApplicationError(_("Two-step verification is already set up."))
    return device, _secret(device)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The set-up QR code as inline SVG markup (no script, no data: URL)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def _lock_key(user_id: int) -> str:
    return f"mfa:failures:{user_id}"


def failures(user: User) -> int:
    return int(cache.get(_lock_key(user.pk), 0))


@transaction.atomic
def code_verify(*, user: User, code: str) -> TotpDevice:
    """Check a code against the user's device; on success it is spent (a second use of the
    same code, or of an older one, fails). Raises ApplicationError with a message."""
    if failures(user) >= settings.MFA_MAX_FAILURES:
        raise ApplicationError(
            _("Too many wrong codes. Try again in %(n)d minutes.")
            % {"n": settings.MFA_LOCK_SECONDS // 60},
            code="locked",
        )
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        raise ApplicationError(_("Set up two-step verification first."), code="no_device")
    code = "".join(code.split())
    totp = pyotp.TOTP(_secret(device))
    now = time.time()
    matched_step = None
    if code.isdigit() and len(code) == 6:
        for drift in (0, -1, 1):
            at = now + drift * totp.interval
            if totp.verify(code, for_time=at, valid_window=0):
                matched_step = int(at // totp.interval)
                break
    if matched_step is None or matched_step <= device.last_step:
        key = _lock_key(user.pk)
        cache.add(key, 0, settings.MFA_LOCK_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.MFA_LOCK_SECONDS)
        if matched_step is not None:
            raise ApplicationError(
                _("This code was already used. Wait for the next one."), code="reused"
            )
        raise ApplicationError(_("That code is not right. Check your app and try again."))
    device.last_step = matched_step
    fields = ["last_step"]
    if device.confirmed_at is None:
        device.confirmed_at = timezone.now()
        fields.append("confirmed_at")
    device.save(update_fields=fields)
    cache.delete(_lock_key(user.pk))
    return device


def session_verified(request) -> None:
    request.session[SESSION_MFA_AT] = int(time.time())
    request.session.cycle_key()


def mfa_needed(request) -> bool:
    """True if this signed-in request must still pass two-step verification."""
    from fair.session_limits import PRIVILEGED

    if not settings.MFA_REQUIRED:
        return False
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(PRIVILEGED) and not session.get(SESSION_MFA_AT))
