"""Encryption of personal data at rest: AES-256-GCM for the value, HMAC-SHA256 for lookups and uniqueness.

Ciphertext layout: 12-byte random nonce || AES-GCM ciphertext+tag, with the column name as associated data
so a value cannot be moved to another column unnoticed. The blind index uses a key derived from the same
secret, so one key setting protects both.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class PiiCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the PII key must be 32 bytes (64 hex characters)")
        self._aead = AESGCM(key)
        self._index_key = hmac.new(key, b"zhiyuan blind index v1", hashlib.sha256).digest()

    def encrypt(self, value: str, column: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value.encode(), column.encode())

    def decrypt(self, blob: bytes, column: str) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], column.encode()).decode()

    def blind_index(self, value: str) -> str:
        """Keyed hash of a normalised value: equal inputs give equal outputs, nothing else is learnt."""
        return hmac.new(self._index_key, value.strip().upper().encode(), hashlib.sha256).hexdigest()
