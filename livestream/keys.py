"""Stream keys: generated with ``secrets`` (256 bits), checked through a SHA-256 hash in
constant time, kept encrypted (Fernet, key derived from SECRET_KEY) so owners and admins can
read theirs again. The key never appears in a log line, a public page or an API answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"cloudfair-stream-keys:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def key_new() -> str:
    return secrets.token_urlsafe(32)


def public_id_new() -> str:
    # Names the HLS files; unguessable so nobody can enumerate channels, yet never the key.
    return secrets.token_hex(8)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_encrypt(key: str) -> str:
    return _fernet().encrypt(key.encode()).decode()


def key_decrypt(token: str) -> str | None:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed: the owner must rotate
        return None


def key_matches(candidate: str, stored_hash: str) -> bool:
    return hmac.compare_digest(key_hash(candidate or ""), stored_hash)
