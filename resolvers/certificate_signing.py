"""Ed25519 signatures over a certificate's printed fields, so that anyone can check a certificate offline.

The signed bytes are the canonical JSON of exactly the fields printed on the certificate (``PRINTED_FIELDS``,
named as in ``verifyCertificate``): every value a string (dates ``YYYY-MM-DD``, hours with two decimals, the
ID number masked as printed, the ID type as its enum name), keys sorted, no whitespace, UTF-8 without ASCII
escapes — ``json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))``. The verification
code and the status are not signed: the code is an access key, not a certified fact, and the status changes
when a certificate is revoked.

The key id is the first 16 hex characters of SHA-256 over the raw 32-byte public key. Retired public keys
(``ZHIYUAN_CERT_OLD_PUBLIC_KEYS``) keep verifying what they signed; the signature row does not record its
key, so verification tries the active key first and then the retired ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from settings import Settings

ALGORITHM = "Ed25519"
PRINTED_FIELDS = (
    "number",
    "issueDate",
    "volunteerName",
    "idType",
    "idNumber",
    "volunteerNumber",
    "periodStart",
    "periodEnd",
    "totalHours",
    "content",
    "issuerName",
    "personInCharge",
    "handlerName",
    "contact",
)
"""What the certificate prints, and so what the signature covers — no more, no less."""


def canonical(payload: Mapping[str, str]) -> bytes:
    """The bytes that are signed: the printed fields as canonical JSON."""
    if set(payload) != set(PRINTED_FIELDS) or not all(isinstance(v, str) for v in payload.values()):
        raise ValueError("a certificate payload has exactly the printed fields, all strings")
    return json.dumps(dict(payload), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    raw: bytes
    active: bool

    @property
    def raw_base64(self) -> str:
        return base64.b64encode(self.raw).decode()

    @property
    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()

    def verifies(self, data: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def as_json(self) -> dict[str, object]:
        return {
            "keyId": self.key_id,
            "algorithm": ALGORITHM,
            "publicKey": self.raw_base64,
            "pem": self.pem,
            "active": self.active,
        }


def key_id(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()[:16]


class CertificateSigner:
    """Signs with the active key; verifies against the active and the retired public keys."""

    def __init__(self, seed: bytes, retired: Sequence[bytes] = ()) -> None:
        if len(seed) != 32:
            raise ValueError("the certificate signing key is a 32-byte Ed25519 seed (64 hex characters)")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        raw = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.active = PublicKey(key_id(raw), raw, True)
        old = [PublicKey(key_id(r), r, False) for r in retired if len(r) == 32 and r != raw]
        self.keys: tuple[PublicKey, ...] = (self.active, *old)

    def sign(self, payload: Mapping[str, str]) -> bytes:
        return self._private.sign(canonical(payload))

    def key_that_verifies(self, payload: Mapping[str, str], signature: bytes | None) -> PublicKey | None:
        """The known key under which ``signature`` is valid for ``payload``, or None."""
        if not signature:
            return None
        data = canonical(payload)
        return next((k for k in self.keys if k.verifies(data, signature)), None)

    def key(self, wanted: str | None) -> PublicKey | None:
        return self.active if wanted is None else next((k for k in self.keys if k.key_id == wanted), None)


@cache
def _signer(seed: bytes, retired: tuple[bytes, ...]) -> CertificateSigner:
    return CertificateSigner(seed, retired)


def signer(settings: Settings) -> CertificateSigner:
    """The signer for these settings (built once per key set)."""
    return _signer(settings.cert_signing_key, settings.cert_old_public_keys)


async def signing_keys_route(request: Request) -> Response:
    """``GET /certificates/signing-keys``: the public keys, active first, for offline verification."""
    settings: Settings = request.app.state.services.settings
    keys = [k.as_json() for k in signer(settings).keys]
    return JSONResponse({"keys": keys}, headers={"cache-control": "public, max-age=3600"})
