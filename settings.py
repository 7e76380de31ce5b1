"""Settings from the environment, read once at start-up.

Every knob the operators turn lives here; nothing else reads ``os.environ``. Development keys are generated
into the git-ignored ``var/keys`` folder on first run, with a warning; production refuses them.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("zhiyuan.settings")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def _dev_secret(var_dir: Path, name: str, nbytes: int = 32) -> bytes:
    """A random secret kept in var/keys/<name>; made on first use with a warning."""
    path = var_dir / "keys" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(nbytes))
        path.chmod(0o600)
        log.warning("generated a development key at %s: never use it in production", path)
    return bytes.fromhex(path.read_text().strip())


def _secret(name: str, var_dir: Path) -> tuple[bytes, bool]:
    """A hex secret from NAME, or NAME_FILE, or a generated development key (second item True)."""
    value = os.environ.get(name)
    file = os.environ.get(f"{name}_FILE")
    if value:
        return bytes.fromhex(value.strip()), False
    if file:
        return bytes.fromhex(Path(file).read_text().strip()), False
    return _dev_secret(var_dir, name.lower()), True


EXPORT_ROW_LIMITS = {
    "ministry": 5_000_000,
    "province": 1_000_000,
    "city": 1_000_000,
    "county": 100_000,
    "township": 100_000,
    "team": 50_000,
    "volunteer": 10_000,
}


def _limits(name: str, defaults: dict[str, int]) -> dict[str, int]:
    """``role=rows,role=rows`` from NAME over the defaults."""
    limits = dict(defaults)
    for item in filter(None, os.environ.get(name, "").split(",")):
        role, _, rows = item.partition("=")
        limits[role.strip()] = int(rows)
    return limits


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    var_dir: Path
    pii_key: bytes
    """AES-256-GCM key for ID numbers and phones (and the HMAC blind-index key derives from it)."""
    jwt_keys: dict[str, bytes]
    """Signing keys by ``kid``; the first is used to sign, all verify (rotation)."""
    jwt_active_kid: str
    access_token_ttl: int = 900
    db_pool_size: int = 0
    """Pooled database connections kept open per worker (0: the backend's default, models/db.py)."""
    db_max_overflow: int = -1
    """Connections opened beyond the pool under bursts and closed after use (-1: the backend's default)."""
    refresh_token_ttl: int = 30 * 24 * 3600
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    login_max_failures: int = 5
    login_lockout_seconds: int = 900
    login_ip_max_failures: int = 50
    max_page_size: int = 100
    serve_graphiql: bool = True
    introspection: bool = True
    """``__schema``/``__type`` queries; off in production unless ZHIYUAN_INTROSPECTION=1 (schema/introspection.py)."""
    uses_dev_keys: bool = False
    log_level: str = "INFO"
    json_logs: bool = True
    """One JSON object per log line (LOG_FORMAT=json, the default everywhere); LOG_FORMAT=text for plain lines."""
    identity_verifier_url: str = ""
    """Empty: the offline verifier (check character, birth date, area code). Else the population-database
    adapter's endpoint (resolvers/verifiers/http.py)."""
    identity_verifier_token: str = ""
    legal_verifier_url: str = ""
    legal_verifier_token: str = ""
    verifier_timeout: float = 5.0
    verifier_retries: int = 2
    verification_interval: float = 30.0
    """Seconds between runs of the pending-verification worker (0 turns the in-process worker off)."""
    min_age_free: int = 18
    """Registers without a guardian from this age (志愿服务条例: 18)."""
    min_age_guardian: int = 14
    """Registers with a guardian's consent from this age up to ``min_age_free``."""
    min_age_self_supporting: int = 16
    """From this age a self-supporting minor registers without a guardian."""
    min_age_accepted: int = 6
    """Below this age registration is refused; between it and ``min_age_guardian`` a guardian registers the child."""
    execution_timeout: float = 20.0
    """Seconds an operation may run before it is cancelled with TIMEOUT."""
    max_body_bytes: int = 1 << 20
    trusted_documents: str = ""
    """Path of an Apollo persisted-query manifest: when set, only those operations run (schema/persisted.py)."""
    gateway_secret: str = ""
    """Shared with the federation gateway, which sends it in X-Zhiyuan-Gateway (exempt from trusted documents)."""
    rate_limit_anonymous: int = 300
    """Requests per minute per client address without a token."""
    rate_limit_signed_in: int = 1200
    """Requests per minute per account."""
    redis_url: str = ""
    cost_budgets: dict[str, int] = field(
        default_factory=lambda: {
            "anonymous": 5000,
            "signed_in": 20000,
            "team_admin": 100000,
            "region_admin": 200000,
        }
    )
    """Query cost budget per role (schema/cost.py)."""
    default_province_status: str = "LIVE"
    """Rollout status of provinces without an explicit row (LEGACY, TRIAL or LIVE)."""
    project_review_required: bool = False
    """Submitted projects wait for a region admin's review before they are published (ZHIYUAN_PROJECT_REVIEW)."""
    cert_signing_key: bytes = b""
    """Ed25519 private seed (32 bytes) that signs certificates (resolvers/certificate_signing.py)."""
    cert_old_public_keys: tuple[bytes, ...] = ()
    """Raw public keys of retired signing keys: certificates they signed still verify."""
    cert_font_path: str = ""
    """CJK font embedded in certificate PDFs; empty: Noto Sans SC from the pylopdf-fonts-zh-cn package."""
    public_base_url: str = "http://127.0.0.1:8000"
    """Base of the public links printed on certificates (the QR code's ``/verify`` link)."""
    checkin_qr_ttl: int = 120
    """Seconds a check-in QR token stays valid (resolvers/checkin_presence.py)."""
    checkin_early_minutes: int = 60
    """How long before the shift (or project) starts a volunteer may check in."""
    max_hours_per_day: int = 12
    """Cap on the hours one check-out records (records never exceed 24 h per day in any case)."""
    stale_checkin_hours: int = 12
    """An OPEN check-in older than this is force-closed (also 2 h after the project's end)."""
    location_retention_days: int = 30
    """Check-in coordinates are erased after this many days (PIPL: limited retention)."""
    attendance_sweep_interval: float = 600.0
    """Seconds between in-process runs of the stale-close and location purge (0 turns them off)."""
    star_thresholds: tuple[int, ...] = (100, 300, 600, 1000, 1500)
    """Confirmed hours for 1★ to 5★ (星级志愿者)."""
    supervision_interval_minutes: int = 0
    """Minutes between in-process national supervision passes (docs/supervision.md); 0: off, use cron/systemd."""
    supervision_lookback_days: int = 31
    """Days of service records the record rules (daily limit, overlaps, missing attendance) look at per run."""
    supervision_spike_factor: float = 3.0
    """A team's last 7 days of hours above this many times its trailing 8-week weekly mean is a spike..."""
    supervision_spike_floor_hours: int = 200
    """... provided those 7 days also exceed this many hours."""
    supervision_inactive_months: int = 6
    """An active team with no live record for this many months is reported inactive."""
    supervision_certificate_days: int = 366
    """Certificates issued in this many days are compared with the confirmed hours behind them."""
    export_row_limits: dict[str, int] = field(default_factory=lambda: dict(EXPORT_ROW_LIMITS))
    """Most rows one export may hold, by the viewer's widest role (resolvers/exports.py); ZHIYUAN_EXPORT_ROW_LIMITS
    overrides some, e.g. ``county=200000,team=20000``."""
    export_link_ttl: int = 300
    """Seconds an export's signed download link stays valid."""
    deployment_mode: str = "national"
    """``national`` (ministry-central, 民政部大集中) or ``province:<code>`` (a province's own instance, 部省两级);
    parsed by ``parse_deployment_mode`` (docs/deploy.md, "Two deployment modes")."""
    peer_credentials: str = ""
    """``USER:PASSWORD`` of the peer's service account for ``cli.py sync`` when ``--credentials`` is not given."""
    peer_password: str = ""
    """Password of the account ``cli.py create-peer`` makes, when neither ``--password-file`` nor a prompt."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def node_id(self) -> int:
        """0 for the ministry, the 2-digit province code for a province instance (the id space, models/db.py)."""
        return parse_deployment_mode(self.deployment_mode)


class SettingsError(ValueError):
    """A setting that cannot be used; ``code`` is stable, the message says what to set."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


def parse_deployment_mode(mode: str) -> int:
    """``national`` -> node 0; ``province:37`` or ``province:370000000000`` -> node 37."""
    if mode == "national":
        return 0
    kind, _, code = mode.partition(":")
    digits_ok = code.isdigit() and len(code) in (2, 12) and code[2:].strip("0") == ""
    if kind == "province" and digits_ok and 11 <= int(code[:2]) <= 99:
        return int(code[:2])
    raise SettingsError(
        "BAD_DEPLOYMENT_MODE",
        f"ZHIYUAN_DEPLOYMENT_MODE={mode!r}: expected 'national' or 'province:<2-digit or 12-digit province"
        " code>', e.g. province:37 or province:370000000000",
    )


def load_settings() -> Settings:
    var_dir = Path(_env("ZHIYUAN_VAR_DIR", str(ROOT / "var")))
    default_db = f"sqlite+aiosqlite:///{var_dir / 'zhiyuan.db'}"
    pii_key, dev_pii = _secret("ZHIYUAN_PII_KEY", var_dir)
    jwt_key, dev_jwt = _secret("ZHIYUAN_JWT_KEY", var_dir)
    cert_key, dev_cert = _secret("ZHIYUAN_CERT_SIGNING_KEY", var_dir)
    kid = _env("ZHIYUAN_JWT_KID", "k1")
    keys = {kid: jwt_key}
    old = os.environ.get("ZHIYUAN_JWT_OLD_KEYS", "")  # "kid:hex,kid:hex" still accepted for verification
    for item in filter(None, old.split(",")):
        old_kid, _, hexkey = item.partition(":")
        keys[old_kid] = bytes.fromhex(hexkey)
    environment = _env("ZHIYUAN_ENV", "development")
    testing = environment == "test"
    return Settings(
        environment=environment,
        database_url=_env("DATABASE_URL", default_db),
        var_dir=var_dir,
        pii_key=pii_key,
        jwt_keys=keys,
        jwt_active_kid=kid,
        access_token_ttl=_env_int("ZHIYUAN_ACCESS_TTL", 900),
        db_pool_size=_env_int("ZHIYUAN_DB_POOL_SIZE", 0),
        db_max_overflow=_env_int("ZHIYUAN_DB_MAX_OVERFLOW", -1),
        refresh_token_ttl=_env_int("ZHIYUAN_REFRESH_TTL", 30 * 24 * 3600),
        argon2_time_cost=1 if testing else _env_int("ZHIYUAN_ARGON2_TIME", 3),
        argon2_memory_cost=1024 if testing else _env_int("ZHIYUAN_ARGON2_MEMORY", 65536),
        login_max_failures=_env_int("ZHIYUAN_LOGIN_MAX_FAILURES", 5),
        login_lockout_seconds=_env_int("ZHIYUAN_LOGIN_LOCKOUT", 900),
        login_ip_max_failures=_env_int("ZHIYUAN_LOGIN_IP_MAX_FAILURES", 50),
        serve_graphiql=_env("ZHIYUAN_GRAPHIQL", "0" if environment == "production" else "1") == "1",
        introspection=_env("ZHIYUAN_INTROSPECTION", "0" if environment == "production" else "1") == "1",
        uses_dev_keys=dev_pii or dev_jwt or dev_cert,
        log_level=_env("LOG_LEVEL", "INFO"),
        json_logs=_env("LOG_FORMAT", "json").lower() != "text",
        identity_verifier_url=_env("ZHIYUAN_IDENTITY_VERIFIER_URL", ""),
        identity_verifier_token=_env("ZHIYUAN_IDENTITY_VERIFIER_TOKEN", ""),
        legal_verifier_url=_env("ZHIYUAN_LEGAL_VERIFIER_URL", ""),
        legal_verifier_token=_env("ZHIYUAN_LEGAL_VERIFIER_TOKEN", ""),
        verifier_timeout=float(_env("ZHIYUAN_VERIFIER_TIMEOUT", "5")),
        verifier_retries=_env_int("ZHIYUAN_VERIFIER_RETRIES", 2),
        verification_interval=float(_env("ZHIYUAN_VERIFICATION_INTERVAL", "0" if testing else "30")),
        min_age_free=_env_int("ZHIYUAN_MIN_AGE_FREE", 18),
        min_age_guardian=_env_int("ZHIYUAN_MIN_AGE_GUARDIAN", 14),
        min_age_accepted=_env_int("ZHIYUAN_MIN_AGE_ACCEPTED", 6),
        min_age_self_supporting=_env_int("ZHIYUAN_MIN_AGE_SELF_SUPPORTING", 16),
        default_province_status=_env("ZHIYUAN_DEFAULT_PROVINCE_STATUS", "LIVE"),
        execution_timeout=float(_env("ZHIYUAN_EXECUTION_TIMEOUT", "20")),
        max_body_bytes=_env_int("ZHIYUAN_MAX_BODY_BYTES", 1 << 20),
        trusted_documents=_env("ZHIYUAN_TRUSTED_DOCUMENTS", ""),
        gateway_secret=_env("ZHIYUAN_GATEWAY_SECRET", ""),
        rate_limit_anonymous=_env_int("ZHIYUAN_RATE_LIMIT_ANONYMOUS", 100000 if testing else 300),
        rate_limit_signed_in=_env_int("ZHIYUAN_RATE_LIMIT_SIGNED_IN", 100000 if testing else 1200),
        redis_url=_env("REDIS_URL", ""),
        checkin_qr_ttl=_env_int("ZHIYUAN_CHECKIN_QR_TTL", 120),
        checkin_early_minutes=_env_int("ZHIYUAN_CHECKIN_EARLY_MINUTES", 60),
        max_hours_per_day=_env_int("ZHIYUAN_MAX_HOURS_PER_DAY", 12),
        stale_checkin_hours=_env_int("ZHIYUAN_STALE_CHECKIN_HOURS", 12),
        location_retention_days=_env_int("ZHIYUAN_LOCATION_RETENTION_DAYS", 30),
        attendance_sweep_interval=float(_env("ZHIYUAN_ATTENDANCE_SWEEP_INTERVAL", "0" if testing else "600")),
        star_thresholds=tuple(
            int(h) for h in _env("ZHIYUAN_STAR_THRESHOLDS", "100,300,600,1000,1500").split(",") if h.strip()
        ),
        supervision_interval_minutes=_env_int("ZHIYUAN_SUPERVISION_INTERVAL_MINUTES", 0),
        supervision_lookback_days=_env_int("ZHIYUAN_SUPERVISION_LOOKBACK_DAYS", 31),
        supervision_spike_factor=float(_env("ZHIYUAN_SUPERVISION_SPIKE_FACTOR", "3")),
        supervision_spike_floor_hours=_env_int("ZHIYUAN_SUPERVISION_SPIKE_FLOOR_HOURS", 200),
        supervision_inactive_months=_env_int("ZHIYUAN_SUPERVISION_INACTIVE_MONTHS", 6),
        supervision_certificate_days=_env_int("ZHIYUAN_SUPERVISION_CERTIFICATE_DAYS", 366),
        project_review_required=_env("ZHIYUAN_PROJECT_REVIEW", "0").lower() in ("1", "true", "yes"),
        export_row_limits=_limits("ZHIYUAN_EXPORT_ROW_LIMITS", EXPORT_ROW_LIMITS),
        export_link_ttl=_env_int("ZHIYUAN_EXPORT_LINK_TTL", 300),
        cert_signing_key=cert_key,
        cert_old_public_keys=tuple(
            bytes.fromhex(k) for k in filter(None, _env("ZHIYUAN_CERT_OLD_PUBLIC_KEYS", "").split(","))
        ),
        cert_font_path=_env("ZHIYUAN_CERT_FONT", ""),
        public_base_url=_env("ZHIYUAN_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        deployment_mode=_deployment_mode(_env("ZHIYUAN_DEPLOYMENT_MODE", "national")),
        peer_credentials=_env("ZHIYUAN_PEER_CREDENTIALS", ""),
        peer_password=_env("ZHIYUAN_PEER_PASSWORD", ""),
    )


def _deployment_mode(mode: str) -> str:
    parse_deployment_mode(mode)  # refuses a bad value at start-up with BAD_DEPLOYMENT_MODE
    return mode


@cache
def get_settings() -> Settings:
    return load_settings()
