"""The one configuration loader.  Everything comes from the environment so the
same code runs from `make run`, a container or a Kubernetes pod."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from shared.catalogue import SERVICES

DEFAULT_PORTS = {"provider_registry": 8001, "referrals": 8002, "awards": 8003, "tracking": 8004, "notifications": 8005}

# Published in the README: only for a developer's own machine.
DEVELOPMENT_JWT_SECRET = "dps-development-secret-do-not-use-in-production"
# What `make run` binds its tokens to (DPS_JWT_ISSUER, DPS_JWT_AUDIENCE), and `dps token` mints for.
DEVELOPMENT_JWT_ISSUER = "dps-development"
DEVELOPMENT_JWT_AUDIENCE = "dps-development"

# The council's commissioning teams (DPS_TEAMS): code=name, comma-separated.
DEFAULT_TEAMS = ("exclusions=Exclusions and Reintegration,send=SEND,medical=Medical and hospital education,"
                 "virtual_school=Virtual School,post16=Post-16")
_TEAM_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_teams(raw: str, name: str = "DPS_TEAMS") -> dict[str, str]:
    """The teams of `code=name,code=name` (codes lower-case, unique); a malformed value is refused naming `name`."""
    teams: dict[str, str] = {}
    for part in raw.split(","):
        code, sep, title = (piece.strip() for piece in part.partition("="))
        if not sep or not _TEAM_CODE.fullmatch(code) or not title:
            raise ValueError(f"{name} must be code=name pairs separated by commas (a code in lower-case letters, "
                             f"digits and _), not {part.strip()!r}")
        if code in teams:
            raise ValueError(f"{name} names the team {code!r} twice")
        teams[code] = title
    return teams


def _delays(name: str, default: str) -> tuple[float, ...]:
    raw = _env(name, default) or default
    return tuple(float(part) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class SmtpSettings:
    """The council's SMTP relay (DPS_SMTP_*, DPS_MAIL_FROM): notifications' mail, and the portal's sign-in links."""

    host: str = "127.0.0.1"
    port: int = 1025
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    mail_from: str = "dps@council.invalid"


def smtp_settings() -> SmtpSettings:
    return SmtpSettings(host=_env("DPS_SMTP_HOST", "127.0.0.1"), port=int(_env("DPS_SMTP_PORT", "1025")),
                        starttls=_bool("DPS_SMTP_STARTTLS", False), username=_env("DPS_SMTP_USERNAME"),
                        password=_env("DPS_SMTP_PASSWORD"), mail_from=_env("DPS_MAIL_FROM", "dps@council.invalid"))


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    amqp_url: str
    host: str
    port: int
    jwt_secret: str | None
    jwt_public_key: str | None
    quorum_queues: bool
    retry_delays: tuple[float, ...]  # seconds; one TTL queue each; then dead letter
    relay_poll_interval: float
    relay_batch_size: int
    prefetch: int
    log_level: str
    job_interval: float
    extra: dict = field(default_factory=dict)
    # the council's commissioning teams, code -> name (DPS_TEAMS)
    teams: dict[str, str] = field(default_factory=lambda: parse_teams(DEFAULT_TEAMS))
    # production | development: a production deployment must set what development may default (DPS_ENVIRONMENT)
    environment: str = "development"
    # Accepted as well during a key rotation, until every token signed with it has expired.
    jwt_previous_secret: str | None = None
    jwt_previous_public_key: str | None = None
    # Tokens of this deployment only: checked when set (`iss`, `aud`), and never longer-lived than this.
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_max_lifetime: float = 12 * 3600  # seconds between a token's iat and exp
    # The council's identity provider (shared/auth.py, IdentityProviderKeys): its JWKS URL, how long its key
    # set is kept before it is fetched again, and the algorithms its tokens may use (asymmetric only)
    jwt_jwks_url: str | None = None
    jwt_jwks_lifetime: float = 3600
    jwt_algorithms: tuple[str, ...] = ("RS256", "ES256")
    # where the identity provider's tokens carry roles, team and provider, and its role names -> ours
    jwt_roles_claim: str = "roles"
    jwt_team_claim: str = "team"
    jwt_provider_claim: str = "provider_id"
    jwt_role_map: dict[str, str] = field(default_factory=dict)
    max_body_bytes: int = 1024 * 1024  # a larger request body is refused 413 unread
    web_workers: int = 2  # gunicorn processes
    web_threads: int = 4  # and threads in each
    metrics_port: int | None = None  # a consumer's or relay's Prometheus port (off when None)
    # DPS_RETENTION_* as set: each service's retention table (services/<service>/retention.py) reads its own
    retention: dict[str, str] = field(default_factory=dict)
    # the school calendar (shared.calendar.school_calendar): a file of the council's term dates; none: the default
    school_calendar_file: str = ""
    # more than this many hours a week in the day is full-time education (DfE; DPS_FULL_TIME_HOURS)
    full_time_hours: Decimal = Decimal(18)
    # referrals: the AP census days the council was told, one per January; any other year: the third Thursday
    ap_census_days: tuple[date, ...] = ()
    # tracking: a low-attendance concern below this share over this many weeks
    attendance_threshold: str = "0.80"
    attendance_window_weeks: str = "4"
    # awards' open data (OCDS): the ocid prefix registered with the Open Contracting Partnership (required in
    # production; development publishes under an obviously local one), and the buyer
    ocid_prefix: str | None = None
    council_name: str = "The Council"
    council_id: str = "council"
    # provider registry: the statutory end of a DPS under the 2015 rules (SI 2024/716 regulation 5(4))
    pcr2015_statutory_end: date = date(2029, 2, 23)
    # awards: whether the council uses the voluntary call-off standstill under a PCR 2015 DPS (regulations 86-87)
    calloff_standstill_pcr2015: bool = False
    # notifications: where people act (the portal), and how mail leaves (GOV.UK Notify when a key is set, else SMTP)
    portal_url: str = "http://127.0.0.1:8000"
    notify_api_key: str | None = None
    notify_template_id: str | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    smtp: SmtpSettings = field(default_factory=lambda: SmtpSettings())
    # the commissioning teams' mailboxes (code -> address) and the DPS manager's
    team_mailboxes: dict[str, str] = field(default_factory=dict)
    manager_mailbox: str | None = None
    # the registration rule: special educational needs count from this date (DPS_SEN_REGISTRATION_FROM; Children's
    # Wellbeing and Schools Act 2026 s.43; None: not commenced); the council's stricter policy, never more hours than
    # this with an unregistered setting (DPS_UNREGISTERED_MAX_HOURS; None: no such policy)
    sen_registration_from: date | None = None
    unregistered_max_hours: Decimal | None = None

    @property
    def upper(self) -> str:
        return self.service.upper()


def data_dir() -> Path:
    return Path(_env("DPS_DATA_DIR", "data")).resolve()


def load_settings(service: str) -> Settings:
    """Settings of one service.  Per-service variables (DPS_REFERRALS_DATABASE_URL)
    win over the plain ones (DATABASE_URL), which suit a container running one service."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    up = service.upper()
    database_url = _env(f"DPS_{up}_DATABASE_URL") or _env("DATABASE_URL")
    if database_url is None:
        database_url = f"sqlite:///{data_dir() / (service + '.sqlite3')}"
    public_key = _key("DPS_JWT_PUBLIC_KEY")
    return Settings(
        service=service,
        database_url=database_url,
        amqp_url=_env("DPS_AMQP_URL") or _env("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
        # DPS_PORT/DPS_HOST suit a container running one service (not PORT:
        # Procfile runners set PORT for every process they start).
        host=_env(f"DPS_{up}_HOST") or _env("DPS_HOST", "127.0.0.1"),
        port=int(_env(f"DPS_{up}_PORT") or _env("DPS_PORT") or DEFAULT_PORTS[service]),
        jwt_secret=_env("DPS_JWT_SECRET"),
        jwt_public_key=public_key,
        quorum_queues=_bool("DPS_QUORUM_QUEUES", False),
        retry_delays=_delays("DPS_RETRY_DELAYS", "1,5,30"),
        relay_poll_interval=float(_env("DPS_RELAY_POLL_INTERVAL", "0.05")),
        relay_batch_size=int(_env("DPS_RELAY_BATCH_SIZE", "200")),
        prefetch=int(_env("DPS_PREFETCH", "20")),
        log_level=_env("DPS_LOG_LEVEL", "INFO"),
        job_interval=float(_env("DPS_JOB_INTERVAL", "30")),
        jwt_previous_secret=_env("DPS_JWT_PREVIOUS_SECRET"),
        jwt_previous_public_key=_key("DPS_JWT_PREVIOUS_PUBLIC_KEY"),
        jwt_issuer=_env("DPS_JWT_ISSUER"),
        jwt_audience=_env("DPS_JWT_AUDIENCE"),
        jwt_max_lifetime=float(_env("DPS_JWT_MAX_LIFETIME", str(12 * 3600))),
        **identity_provider_settings(),
        max_body_bytes=int(_env("DPS_MAX_BODY_BYTES", str(1024 * 1024))),
        web_workers=int(_env("DPS_WEB_WORKERS", "2")),
        web_threads=int(_env("DPS_WEB_THREADS", "4")),
        metrics_port=int(port) if (port := _env("DPS_METRICS_PORT")) else None,
        retention={name: value for name, value in os.environ.items()
                   if name.startswith("DPS_RETENTION_") and value != ""},
        school_calendar_file=(_env("DPS_SCHOOL_CALENDAR_FILE", "") or "").strip(),
        ap_census_days=_census_days("DPS_AP_CENSUS_DAYS"),
        attendance_threshold=_env("DPS_ATTENDANCE_THRESHOLD", "0.80"),
        attendance_window_weeks=_env("DPS_ATTENDANCE_WINDOW_WEEKS", "4"),
        ocid_prefix=_env("DPS_AWARDS_OCID_PREFIX"),
        environment=(_env("DPS_ENVIRONMENT", "development") or "development").strip().lower(),
        council_name=_env("DPS_COUNCIL_NAME", "The Council"),
        council_id=_env("DPS_COUNCIL_ID", "council"),
        pcr2015_statutory_end=_date("DPS_PCR2015_STATUTORY_END", "2029-02-23"),
        calloff_standstill_pcr2015=_bool("DPS_CALLOFF_STANDSTILL_PCR2015", False),
        full_time_hours=_hours("DPS_FULL_TIME_HOURS") or Decimal(18),
        sen_registration_from=_optional_date("DPS_SEN_REGISTRATION_FROM"),
        unregistered_max_hours=_hours("DPS_UNREGISTERED_MAX_HOURS"),
        teams=parse_teams(_env("DPS_TEAMS", DEFAULT_TEAMS) or DEFAULT_TEAMS),
        portal_url=_env("DPS_PORTAL_URL", "http://127.0.0.1:8000"),
        notify_api_key=_env("DPS_NOTIFY_API_KEY"),
        notify_template_id=_env("DPS_NOTIFY_TEMPLATE_ID"),
        notify_base_url=_env("DPS_NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk"),
        smtp=smtp_settings(),
        team_mailboxes=_mailboxes(_env("DPS_TEAM_MAILBOXES", "") or ""),
        manager_mailbox=_env("DPS_MANAGER_MAILBOX"),
    )


# Only signatures the identity provider's private key alone can make: never `none`, never a shared secret.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


def identity_provider_settings() -> dict:
    """DPS_JWT_JWKS_URL and what goes with it; a value the service cannot use is refused naming its setting."""
    url = _env("DPS_JWT_JWKS_URL")
    production = (_env("DPS_ENVIRONMENT", "development") or "").strip().lower() == "production"
    if url and not url.startswith(("https://",) if production else ("https://", "http://")):
        raise ValueError(f"DPS_JWT_JWKS_URL must be an https URL{'' if production else ' (or http in development)'}"
                         f", not {url!r}")
    if url and not (_env("DPS_JWT_ISSUER") and _env("DPS_JWT_AUDIENCE")):
        raise ValueError("DPS_JWT_JWKS_URL needs DPS_JWT_ISSUER and DPS_JWT_AUDIENCE: the identity provider's "
                         "tokens are accepted only for this issuer and this audience")
    algorithms = tuple(a.strip() for a in (_env("DPS_JWT_ALGORITHMS", "RS256,ES256") or "").split(",") if a.strip())
    refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
    if refused or not algorithms:
        raise ValueError(f"DPS_JWT_ALGORITHMS may name only {', '.join(ASYMMETRIC_ALGORITHMS)}, not "
                         f"{', '.join(refused) or 'nothing'}")
    lifetime = float(_env("DPS_JWT_JWKS_LIFETIME", "3600"))
    if lifetime <= 0:
        raise ValueError("DPS_JWT_JWKS_LIFETIME must be a number of seconds above 0")
    return {"jwt_jwks_url": url, "jwt_jwks_lifetime": lifetime, "jwt_algorithms": algorithms,
            "jwt_roles_claim": _env("DPS_JWT_ROLES_CLAIM", "roles"),
            "jwt_team_claim": _env("DPS_JWT_TEAM_CLAIM", "team"),
            "jwt_provider_claim": _env("DPS_JWT_PROVIDER_CLAIM", "provider_id"),
            "jwt_role_map": parse_role_map(_env("DPS_JWT_ROLE_MAP", "") or "")}


def parse_role_map(raw: str, name: str = "DPS_JWT_ROLE_MAP") -> dict[str, str]:
    """The identity provider's role names -> ours, from `TheirRole=our_role,...` (several of theirs may map to one)."""
    from shared.auth import ROLES

    mapping: dict[str, str] = {}
    for part in (p for p in raw.split(",") if p.strip()):
        theirs, sep, ours = (piece.strip() for piece in part.rpartition("="))
        if not sep or not theirs or ours not in ROLES:
            raise ValueError(f"{name} must be their_role=our_role pairs separated by commas, our role one of "
                             f"{', '.join(ROLES)}, not {part.strip()!r}")
        mapping[theirs] = ours
    return mapping
def _mailboxes(raw: str, name: str = "DPS_TEAM_MAILBOXES") -> dict[str, str]:
    """team=address pairs, comma-separated; a malformed value is refused naming `name`."""
    boxes = {}
    for part in filter(None, (piece.strip() for piece in raw.split(","))):
        team, sep, address = (piece.strip() for piece in part.partition("="))
        if not sep or not _TEAM_CODE.fullmatch(team) or "@" not in address:
            raise ValueError(f"{name} must be team=address pairs separated by commas, not {part!r}")
        boxes[team] = address
    return boxes


def _date(name: str, default: str) -> date:
    raw = _env(name, default) or default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be a date (YYYY-MM-DD), not {raw!r}") from None


def _census_days(name: str) -> tuple[date, ...]:
    """Comma-separated January dates, at most one a year; anything else stops the service, naming the setting."""
    raw = (_env(name, "") or "").strip()
    try:
        days = tuple(date.fromisoformat(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"{name} must be dates (YYYY-MM-DD), comma separated, not {raw!r}") from None
    if any(day.month != 1 for day in days) or len({day.year for day in days}) != len(days):
        raise ValueError(f"{name}: the AP census is in January, one day a year, not {raw!r}")
    return days


def _optional_date(name: str) -> date | None:
    """A date setting that may be left empty (None)."""
    return _date(name, "") if _env(name) else None


def _hours(name: str) -> Decimal | None:
    """Hours a week (0 to 168), or None when the setting is empty."""
    raw = _env(name)
    if raw is None:
        return None
    try:
        hours = Decimal(raw.strip())
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or not 0 <= hours <= 168:
        raise ValueError(f"{name} must be a number of hours a week (0 to 168), not {raw!r}")
    return hours


def _key(name: str) -> str | None:
    """A PEM from NAME, or from the file NAME_FILE names (a mounted secret)."""
    if _env(name):
        return _env(name)
    return Path(_env(f"{name}_FILE")).read_text() if _env(f"{name}_FILE") else None


@dataclass(frozen=True)
class WebhookSettings:
    """Where referrals may post providers' webhooks (read when used, so an operator's change applies at once).

    DPS_WEBHOOK_ALLOWED_HOSTS: host names (comma-separated, exact) that may resolve to non-public
    addresses, still over https: a provider's system reached over a private link.
    DPS_WEBHOOK_ALLOW_LOOPBACK: development only; also http, and loopback addresses (127.0.0.0/8, ::1)."""

    allowed_hosts: tuple[str, ...] = ()
    allow_loopback: bool = False


def webhook_settings() -> WebhookSettings:
    hosts = _env("DPS_WEBHOOK_ALLOWED_HOSTS", "") or ""
    return WebhookSettings(allowed_hosts=tuple(h.strip() for h in hosts.split(",") if h.strip()),
                           allow_loopback=_bool("DPS_WEBHOOK_ALLOW_LOOPBACK", False))


# --- the portal (services/portal): not an event service, so it has its own small loader -----------

PORTAL_PORT = 8000


@dataclass(frozen=True)
class PortalSettings:
    """The portal's settings (DPS_PORTAL_*): where it listens, the services it calls, how people sign in and
    the tokens it signs for them.  It holds no business data and has no database."""

    host: str = "127.0.0.1"
    port: int = PORTAL_PORT
    environment: str = "development"
    # signs the session cookie (Flask's); required in production
    secret_key: str | None = None
    # the RS256 private key (PEM) the portal signs the signed-in person's tokens with; the services hold its
    # public key (DPS_JWT_PUBLIC_KEY)
    jwt_private_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    token_lifetime: int = 300  # seconds a token the portal signs lives
    idle_minutes: int = 30  # a session unused this long is signed out
    # each service's base URL, service -> http://host:port
    service_urls: dict[str, str] = field(default_factory=dict)
    # "sign in as a manager / an officer of a team / a user of a provider": development only
    development_sign_in: bool = False
    # council staff: OpenID Connect (Microsoft Entra ID, or any issuer publishing discovery metadata)
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid profile email"
    # where the identity provider's ID token carries roles, team (and its role names -> ours): the same
    # settings the services read for its access tokens (DPS_JWT_ROLES_CLAIM, ..., DPS_JWT_ROLE_MAP)
    roles_claim: str = "roles"
    team_claim: str = "team"
    role_map: dict[str, str] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)
    # providers' single-use sign-in links, sent by SMTP (the DPS_SMTP_* settings notifications uses)
    link_minutes: int = 15
    links_per_hour: int = 5  # per email address
    smtp: SmtpSettings = field(default_factory=lambda: SmtpSettings())
    portal_url: str = f"http://127.0.0.1:{PORTAL_PORT}"
    data_dir: Path = Path("data")
    # GOV.UK Frontend's compiled files (dist/govuk); none: services/portal/node_modules, where npm ci puts them
    frontend_dir: str = ""

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @property
    def oidc_metadata_url(self) -> str | None:
        return f"{self.oidc_issuer.rstrip('/')}/.well-known/openid-configuration" if self.oidc_issuer else None


def load_portal_settings() -> PortalSettings:
    """The portal's settings; a value it cannot work with is refused naming its setting (ValueError)."""
    environment = (_env("DPS_ENVIRONMENT", "development") or "development").strip().lower()
    development = environment == "development"
    development_sign_in = _bool("DPS_PORTAL_DEVELOPMENT_SIGN_IN", False)
    if development_sign_in and not development:
        raise ValueError("DPS_PORTAL_DEVELOPMENT_SIGN_IN signs anyone in as anyone: it is refused unless "
                         f"DPS_ENVIRONMENT is development (it is {environment})")
    secret_key = _env("DPS_PORTAL_SECRET_KEY") or _key("DPS_PORTAL_SECRET_KEY")
    private_key = _key("DPS_PORTAL_JWT_PRIVATE_KEY")
    if not development:
        missing = [name for name, value in (("DPS_PORTAL_SECRET_KEY", secret_key),
                                            ("DPS_PORTAL_JWT_PRIVATE_KEY", private_key)) if not value]
        if missing:
            raise ValueError(f"the portal needs {' and '.join(missing)} in {environment}")
    if secret_key is not None and len(secret_key) < 32:
        raise ValueError("DPS_PORTAL_SECRET_KEY must be at least 32 characters")
    oidc = {name: _env(f"DPS_PORTAL_OIDC_{name.upper()}") for name in ("issuer", "client_id", "client_secret")}
    if any(oidc.values()) and not all(oidc.values()):
        raise ValueError("DPS_PORTAL_OIDC_ISSUER, DPS_PORTAL_OIDC_CLIENT_ID and DPS_PORTAL_OIDC_CLIENT_SECRET go "
                         "together: set all three, or none")
    if oidc["issuer"] and not oidc["issuer"].startswith("https://" if not development else ("https://", "http://")):
        raise ValueError(f"DPS_PORTAL_OIDC_ISSUER must be an https URL, not {oidc['issuer']!r}")
    return PortalSettings(
        host=_env("DPS_PORTAL_HOST", "127.0.0.1"), port=int(_env("DPS_PORTAL_PORT", str(PORTAL_PORT))),
        environment=environment, secret_key=secret_key, jwt_private_key=private_key,
        jwt_issuer=_env("DPS_JWT_ISSUER"), jwt_audience=_env("DPS_JWT_AUDIENCE"),
        token_lifetime=int(_env("DPS_PORTAL_TOKEN_LIFETIME", "300")),
        idle_minutes=int(_env("DPS_PORTAL_IDLE_MINUTES", "30")),
        service_urls={service: (_env(f"DPS_PORTAL_{service.upper()}_URL") or
                                f"http://{_env(f'DPS_{service.upper()}_HOST', '127.0.0.1')}:"
                                f"{_env(f'DPS_{service.upper()}_PORT', str(DEFAULT_PORTS[service]))}").rstrip("/")
                      for service in SERVICES},
        development_sign_in=development_sign_in,
        **{f"oidc_{name}": value for name, value in oidc.items()},
        oidc_scopes=_env("DPS_PORTAL_OIDC_SCOPES", "openid profile email"),
        roles_claim=_env("DPS_JWT_ROLES_CLAIM", "roles"), team_claim=_env("DPS_JWT_TEAM_CLAIM", "team"),
        role_map=parse_role_map(_env("DPS_JWT_ROLE_MAP", "") or ""),
        teams=parse_teams(_env("DPS_TEAMS", DEFAULT_TEAMS) or DEFAULT_TEAMS),
        link_minutes=int(_env("DPS_PORTAL_LINK_MINUTES", "15")),
        links_per_hour=int(_env("DPS_PORTAL_LINKS_PER_HOUR", "5")),
        smtp=smtp_settings(),
        portal_url=_env("DPS_PORTAL_URL", f"http://127.0.0.1:{PORTAL_PORT}").rstrip("/"),
        data_dir=data_dir(),
        frontend_dir=(_env("DPS_PORTAL_FRONTEND_DIR", "") or "").strip(),
    )
