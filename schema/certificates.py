"""Certificate mutations and the public verification fields: thin wrappers over resolvers/certificates.py."""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from resolvers import certificates
from resolvers.certificate_signing import ALGORITHM, PublicKey, canonical, signer
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.permissions import requires
from schema.types.base import build
from schema.types.enums import CertificateStatus, IdType
from schema.types.record import Certificate
from schema.types.registry import parse_global_id

CertificateId = Annotated[
    strawberry.ID, strawberry.argument(description="The certificate's global ID (证明 ID)")
]
Reason = Annotated[str, strawberry.argument(description="Reason, at most 500 characters (原因)")]
CERTIFIERS = requires(Requirement.TEAM_ADMIN, Requirement.REGION_ADMIN)


@strawberry.type(
    description="A certificate exactly as printed, with its status and signature (证明核验结果). The signed "
    "payload is the canonical JSON of the printed fields (docs/certificates.md)"
)
class CertificateVerification:
    number: str = strawberry.field(description="Certificate number (证明编号)")
    issue_date: date = strawberry.field(description="Issue date, China time (出具日期)")
    volunteer_name: str = strawberry.field(description="Volunteer's name (志愿者姓名)")
    id_type: IdType = strawberry.field(description="Identity document type (证件类型)")
    id_number: str = strawberry.field(description="Document number, masked as printed (证件号码)")
    volunteer_number: str = strawberry.field(description="Volunteer number (志愿者编号)")
    period_start: date = strawberry.field(description="Period from (起始日期)")
    period_end: date = strawberry.field(description="Period to (截止日期)")
    total_hours: Decimal = strawberry.field(description="Certified hours (服务时长)")
    content: str = strawberry.field(description="Service content (服务内容)")
    issuer_name: str = strawberry.field(description="Issuing team (出具单位)")
    person_in_charge: str = strawberry.field(description="Issuer's person in charge (负责人)")
    handler_name: str = strawberry.field(description="Handler (经办人)")
    contact: str = strawberry.field(description="Issuer contact (联系方式)")
    status: CertificateStatus = strawberry.field(description="ISSUED, or REVOKED (证明状态)")
    revoked_at: datetime | None = strawberry.field(description="Revoked at (撤销时间)")
    signature: str | None = strawberry.field(description="Ed25519 signature, base64 (电子签名)")
    key_id: str | None = strawberry.field(
        description="Id of the published key the signature verifies under; null when none does (签名密钥 ID)"
    )
    signature_valid: bool = strawberry.field(description="The signature verifies (签名有效)")
    signed_payload: str = strawberry.field(description="The exact signed text, canonical JSON (签名原文)")


@strawberry.type(description="A public key that signs certificates (证明签名公钥)")
class CertificateSigningKey:
    key_id: str = strawberry.field(description="First 16 hex digits of SHA-256 of the raw key (密钥 ID)")
    algorithm: str = strawberry.field(description="Always Ed25519 (签名算法)")
    public_key: str = strawberry.field(description="The raw 32-byte key, base64 (公钥)")
    pem: str = strawberry.field(description="The key as PEM, SubjectPublicKeyInfo (公钥 PEM)")
    active: bool = strawberry.field(description="Signs new certificates; else retired (当前使用)")


def _key(key: PublicKey) -> CertificateSigningKey:
    return CertificateSigningKey(
        key_id=key.key_id, algorithm=ALGORITHM, public_key=key.raw_base64, pem=key.pem, active=key.active
    )


def _verification(found: certificates.Verified) -> CertificateVerification:
    p = found.printed
    return CertificateVerification(
        number=p["number"],
        issue_date=date.fromisoformat(p["issueDate"]),
        volunteer_name=p["volunteerName"],
        id_type=IdType(p["idType"]),
        id_number=p["idNumber"],
        volunteer_number=p["volunteerNumber"],
        period_start=date.fromisoformat(p["periodStart"]),
        period_end=date.fromisoformat(p["periodEnd"]),
        total_hours=Decimal(p["totalHours"]),
        content=p["content"],
        issuer_name=p["issuerName"],
        person_in_charge=p["personInCharge"],
        handler_name=p["handlerName"],
        contact=p["contact"],
        status=found.status,
        revoked_at=found.revoked_at,
        signature=base64.b64encode(found.signature).decode() if found.signature else None,
        key_id=found.key.key_id if found.key else None,
        signature_valid=found.key is not None,
        signed_payload=canonical(p).decode(),
    )


def _id(value: str, type_name: str, field: str) -> int:
    _, key = parse_global_id(value, expected=type_name, field=field)
    return int(key)


@strawberry.type
class CertificateMutation:
    @strawberry.mutation(
        description="Ask a team for a certificate of the confirmed hours it recorded for you in a period "
        "(申请志愿服务记录证明)",
        extensions=[requires(Requirement.VOLUNTEER)],
    )
    async def request_certificate(
        self,
        info: Info,
        team_id: Annotated[strawberry.ID, strawberry.argument(description="The recording team (记录队伍)")],
        period_start: Annotated[date, strawberry.argument(description="Period from (起始日期)")],
        period_end: Annotated[date, strawberry.argument(description="Period to, not after today (截止日期)")],
    ) -> Certificate:
        ctx = info.context
        row = await certificates.request_certificate(
            ctx.services, ctx.viewer, _id(team_id, "Team", "teamId"), period_start, period_end, ctx.request_id
        )
        return build(Certificate, row)

    @strawberry.mutation(
        description="Issue a requested certificate of your team, or of a dissolved team in your region: "
        "freezes the hours, numbers and signs it (出具证明)",
        extensions=[CERTIFIERS],
    )
    async def issue_certificate(
        self,
        info: Info,
        certificate_id: CertificateId,
        person_in_charge: Annotated[str, strawberry.argument(description="Person in charge (负责人)")],
        handler_name: Annotated[str, strawberry.argument(description="Handler (经办人)")],
        contact: Annotated[
            str, strawberry.argument(description="Contact, at most 100 characters (联系方式)")
        ],
    ) -> Certificate:
        ctx = info.context
        issue = certificates.Issue(person_in_charge, handler_name, contact)
        row = await certificates.issue_certificate(
            ctx.services,
            ctx.viewer,
            _id(certificate_id, "Certificate", "certificateId"),
            issue,
            ctx.request_id,
        )
        return build(Certificate, row)

    @strawberry.mutation(
        description="Reject a certificate request, with a reason (不予出具)", extensions=[CERTIFIERS]
    )
    async def reject_certificate(
        self, info: Info, certificate_id: CertificateId, reason: Reason
    ) -> Certificate:
        ctx = info.context
        row = await certificates.reject_certificate(
            ctx.services,
            ctx.viewer,
            _id(certificate_id, "Certificate", "certificateId"),
            reason,
            ctx.request_id,
        )
        return build(Certificate, row)

    @strawberry.mutation(
        description="Revoke an issued certificate of your team or region, with a reason; it stays on record "
        "and verifies as REVOKED (撤销证明)",
        extensions=[CERTIFIERS],
    )
    async def revoke_certificate(
        self, info: Info, certificate_id: CertificateId, reason: Reason
    ) -> Certificate:
        ctx = info.context
        row = await certificates.revoke_certificate(
            ctx.services,
            ctx.viewer,
            _id(certificate_id, "Certificate", "certificateId"),
            reason,
            ctx.request_id,
        )
        return build(Certificate, row)


@strawberry.type
class CertificateQuery:
    @strawberry.field(
        description="Check a certificate by its number and verification code; anyone may ask. A wrong code "
        "answers like an unknown number: NOT_FOUND (证明核验)",
        extensions=[requires(Requirement.PUBLIC)],
    )
    async def verify_certificate(
        self,
        info: Info,
        number: Annotated[str, strawberry.argument(description="Certificate number (证明编号)")],
        code: Annotated[str, strawberry.argument(description="Verification code (验证码)")],
    ) -> CertificateVerification | None:
        return _verification(await certificates.verify(info.context.services, number, code))

    @strawberry.field(
        description="The public key that signs certificates, or a retired one by id, for offline checks "
        "(证明签名公钥)",
        extensions=[requires(Requirement.PUBLIC)],
    )
    def certificate_signing_key(
        self,
        info: Info,
        key_id: Annotated[
            str | None, strawberry.argument(description="A key id; the active key when omitted (密钥 ID)")
        ] = None,
    ) -> CertificateSigningKey | None:
        key = signer(info.context.services.settings).key(key_id)
        if key is None:
            raise AppError("NOT_FOUND", field="keyId")
        return _key(key)
