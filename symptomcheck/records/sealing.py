"""Keys for sealing (encrypting and authenticating) what the server keeps or hands out: one per purpose."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def key_for(secret: str | bytes, purpose: bytes) -> AESGCM:
    """Derive an AES-GCM key from the app's secret key (HKDF-SHA256): a different key for each purpose."""
    material = secret.encode() if isinstance(secret, str) else secret
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material))
