"""Loading and validating the TOML config: every key known, every error one clear line."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.charter.policy import (
    POLICY_FIELDS,
    DecisionKind,
    Policy,
    PolicyBook,
    TeamKind,
    coerce_field,
    format_duration,
    parse_duration,
)
from bot.charter.schedule import WEEKDAYS

TOKEN_ENV = "WIQ_BOT_TOKEN"
WEBHOOK_SECRET_ENV = "WIQ_WEBHOOK_SECRET"
HEALTHZ_PATH = "/healthz"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
LANGUAGES = ("de", "en")
MAX_EARLY_CLOSE_GRACE = timedelta(minutes=10)
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


class ConfigError(Exception):
    """A config problem, already phrased as the one line a person reads."""


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    base_url: str = DEFAULT_BASE_URL
    poll_timeout: int = 30
    # Where the token came from, for a line about it that never shows the token itself:
    # "WIQ_BOT_TOKEN (environment)" or "telegram.token in config.toml".
    token_source: str = ""


@dataclass(frozen=True, slots=True)
class DigestConfig:
    weekday: str = "monday"
    time: time = time(9, 0)
    quiet_week: str = "line"  # "line" or "nothing"
    public_chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """One network (a quarter) the deployment serves (SPEC §1): `[network]`, or one entry of
    `[[networks]]`. `key` is its short name, typed in `/setup` and the command line."""

    name: str
    admins: frozenset[int]
    timezone: ZoneInfo
    language: str = "de"
    key: str = ""
    digest: DigestConfig = field(default_factory=DigestConfig)
    policies: PolicyBook = field(default_factory=PolicyBook)


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    overall_per_second: float = 30.0
    group_per_minute: int = 20
    card_edits_per_minute: int = 12
    retry_base: float = 1.0
    retry_max: float = 60.0
    # The window of a group's budget, in seconds: Telegram's is a minute; a shorter one only
    # for tests against a local Bot API, so that they need not wait real minutes.
    group_window: float = 60.0
    # An early close (everyone has responded) comes this long after the completing answer,
    # so that answers of others that came before it are still counted (SPEC §3.5, §4).
    early_close_grace: timedelta = timedelta(seconds=3)
    # A chat whose oldest queued message waits longer than this is stuck: the network admins
    # are told privately, once per stuck episode (bot/flows/stuck.py; private chats together).
    stuck_after: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    # How often the running bot writes its heartbeat, and how old the heartbeat (or the last
    # getUpdates round trip) may be before `wiq-bot health` calls the bot unhealthy.
    interval: timedelta = timedelta(seconds=15)
    stale_after: timedelta = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    # Prometheus metrics on http://listen:port/metrics (bot/ops/metrics.py); off by default.
    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = 9464


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Webhook mode (SPEC §9): Telegram posts each update to `url`; the bot serves it on
    `listen`:`port` (behind a reverse proxy that passes the url's path on unchanged)."""

    url: str
    secret_token: str
    listen: str = "127.0.0.1"
    port: int = 8080
    # Where the secret came from, for lines that never show it.
    secret_source: str = ""
    # Several `wiq-bot run` workers share the database behind one reverse proxy (SPEC §9
    # "Several workers"): each takes what only one may do at a time as a claim with a lease.
    workers_share_database: bool = False
    # How long a worker's claims last unless it renews them (it does, a third of this apart):
    # a killed worker's claims pass to the others this long after its last renewal.
    worker_lease: float = 30.0

    @property
    def path(self) -> str:
        """The path the bot serves updates on: the url's own."""
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    telegram: TelegramConfig
    # The networks, in the config's order: one from `[network]`, or those of `[[networks]]`.
    networks: tuple[NetworkConfig, ...]
    storage_path: Path | None  # the SQLite file; None: PostgreSQL (storage_url)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    outbox_keep_days: int = 7  # sent items are kept this long, then purged
    health: HealthConfig = field(default_factory=HealthConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    webhook: WebhookConfig | None = None  # None: long polling
    storage_url: str | None = None  # postgresql://…, instead of storage_path

    @property
    def database(self) -> Path | str:
        """What storage opens: the SQLite file or the PostgreSQL URL."""
        if self.storage_url is not None:
            return self.storage_url
        assert self.storage_path is not None
        return self.storage_path

    @property
    def database_where(self) -> str:
        """The database as log lines name it: the file, or the URL without a password."""
        if self.storage_url is not None:
            parts = urlsplit(self.storage_url)
            if parts.password is not None:
                host = parts.netloc.rsplit("@", 1)[1]
                return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
            return self.storage_url
        return str(self.storage_path)

    @property
    def database_file(self) -> Path:
        """The SQLite file, for what only a file has (its lock, its copies beside it)."""
        if self.storage_path is None:
            raise ValueError("the database is PostgreSQL's, not a file")
        return self.storage_path

    @property
    def network(self) -> NetworkConfig:
        """The deployment's only network; a deployment of several has no such thing (each
        part of the bot asks for the network it serves)."""
        if len(self.networks) != 1:
            raise AttributeError("a deployment of several networks has no single network")
        return self.networks[0]

    @property
    def digest(self) -> DigestConfig:
        return self.network.digest

    @property
    def policies(self) -> PolicyBook:
        return self.network.policies

    def network_named(self, word: str) -> NetworkConfig | None:
        """The network whose key or name this is (any case, spaces as they come)."""
        folded = " ".join(word.split()).casefold()
        for network in self.networks:
            if folded in (network.key.casefold(), network.name.casefold()):
                return network
        return None


class _Section:
    """A view of one TOML table that remembers which keys were read, to report unknown ones."""

    def __init__(self, source: Path, prefix: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: [{prefix}] must be a table")
        self.source = source
        self.prefix = prefix
        self.data = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.key(name)}: {problem}")

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ..., /) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                raise self.fail(name, "missing")
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(name, f"expected {_type_words(kinds)}, got true/false")
        if not isinstance(value, kinds):
            raise self.fail(name, f"expected {_type_words(kinds)}, got {type(value).__name__}")
        return value

    def section(self, name: str, required: bool = False) -> _Section:
        self.used.add(name)
        if name not in self.data:
            if required:
                raise ConfigError(f"{self.source}: [{self.key(name)}] missing")
            return _Section(self.source, self.key(name), {})
        return _Section(self.source, self.key(name), self.data[name])

    def reject_unknown(self, allowed_extra: AbstractSet[str] = frozenset()) -> None:
        for name in self.data:
            if name not in self.used and name not in allowed_extra:
                raise ConfigError(f"{self.source}: {self.key(name)}: unknown key")


def _type_words(kinds: tuple[type, ...]) -> str:
    words = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    words[list] = "a list"
    return " or ".join(words.get(k, k.__name__) for k in kinds)


def load_config(
    path: str | Path, env: Mapping[str, str] | None = None, *, need_token: bool = True
) -> Config:
    """Read and validate the config file; raises ConfigError with one line naming file and key.
    `need_token=False`: the commands that never talk to Telegram (health, backup, restore,
    migrate) accept a config whose token is not set (a cron job without the environment)."""
    source = Path(path)
    env = os.environ if env is None else env
    try:
        with source.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None

    root = _Section(source, "", raw)
    telegram = _load_telegram(root.section("telegram"), env, need_token)
    networks = _load_networks(root)
    storage = root.section("storage", required=True)
    storage_path, storage_url = _load_storage_place(storage, source)
    keep_days = storage.get("outbox_keep_days", int, 7)
    if not 1 <= keep_days <= 3650:
        raise storage.fail("outbox_keep_days", "must be between 1 and 3650")
    storage.reject_unknown()
    limits = _load_limits(root.section("limits"))
    health = _load_health(root.section("health"), telegram.poll_timeout)
    metrics = _load_metrics(root.section("metrics"))
    webhook = _load_webhook(root.section("webhook"), env, telegram.base_url)
    root.reject_unknown()
    return Config(
        path=source,
        telegram=telegram,
        networks=networks,
        storage_path=storage_path,
        storage_url=storage_url,
        limits=limits,
        outbox_keep_days=keep_days,
        health=health,
        metrics=metrics,
        webhook=webhook,
    )


def _load_storage_place(storage: _Section, source: Path) -> tuple[Path | None, str | None]:
    """Exactly one of `path` (a SQLite file, the default) and `url` (PostgreSQL). A password
    stays out of the file: libpq's PGPASSWORD or ~/.pgpass supply it."""
    if "path" in storage.data and "url" in storage.data:
        raise storage.fail("url", "give either path (SQLite) or url (PostgreSQL), not both")
    if "url" in storage.data:
        url = storage.get("url", str)
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
            raise storage.fail("url", "must be a postgresql:// URL naming a database")
        return None, url
    path = Path(storage.get("path", str))
    if not str(path).strip():
        raise storage.fail("path", "must not be empty")
    if not path.is_absolute():
        path = source.resolve().parent / path
    return path, None


def _load_telegram(section: _Section, env: Mapping[str, str], need_token: bool) -> TelegramConfig:
    configured = section.get("token", str, "")
    token = env.get(TOKEN_ENV) or configured
    source = (
        f"{TOKEN_ENV} (environment)"
        if env.get(TOKEN_ENV)
        else f"{section.key('token')} in {section.source}"
    )
    if not token and need_token:
        raise section.fail("token", f"missing (set it here or in the environment as {TOKEN_ENV})")
    if token and not _TOKEN_RE.match(token):
        if env.get(TOKEN_ENV):
            raise ConfigError(f"{TOKEN_ENV}: does not look like a bot token (digits:letters)")
        raise section.fail("token", "does not look like a bot token (digits:letters)")
    base_url = section.get("base_url", str, DEFAULT_BASE_URL)
    if not base_url.startswith(("http://", "https://")):
        raise section.fail("base_url", "must start with http:// or https://")
    poll_timeout = section.get("poll_timeout", int, 30)
    if not 0 <= poll_timeout <= 50:
        raise section.fail("poll_timeout", "must be between 0 and 50 seconds")
    section.reject_unknown()
    return TelegramConfig(
        token=token, base_url=base_url, poll_timeout=poll_timeout, token_source=source
    )


_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def network_key(name: str) -> str:
    """The short name of a network named `name`: "Wir im Quartier" → "wir-im-quartier"."""
    folded = name.casefold().translate(_FOLD)
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:32].strip("-")


def _merged(defaults: Any, own: Any) -> Any:
    """A network's own table over the deployment's: its keys win, sub-tables merge."""
    if not isinstance(defaults, Mapping) or not isinstance(own, Mapping):
        return own
    merged = dict(defaults)
    for name, value in own.items():
        merged[name] = _merged(defaults.get(name), value) if name in defaults else value
    return merged


def _load_networks(root: _Section) -> tuple[NetworkConfig, ...]:
    """`[network]` (one network) or `[[networks]]` (one or more; each may have its own
    `digest` and `policy` tables over the top-level `[digest]` and `[policy]`, which then
    hold what every network shares)."""
    digest_defaults = root.section("digest")
    policy_defaults = root.section("policy")
    if "networks" not in root.data:
        network = _load_network(root.section("network", required=True))
        digest = _load_digest(digest_defaults)
        policies = _load_policies(policy_defaults)
        return (replace(network, digest=digest, policies=policies),)
    if "network" in root.data:
        raise ConfigError(
            f"{root.source}: [network] and [[networks]]: use one of them"
            " ([[networks]] for several networks)"
        )
    root.used.add("networks")
    entries = root.data["networks"]
    if (
        not isinstance(entries, list)
        or not entries
        or not all(isinstance(entry, Mapping) for entry in entries)
    ):
        raise ConfigError(f"{root.source}: networks: expected [[networks]] tables, one each")
    # The defaults are checked on their own too, so that a mistake there names its key.
    _load_digest(_Section(root.source, "digest", digest_defaults.data))
    _load_policies(_Section(root.source, "policy", policy_defaults.data))
    networks: list[NetworkConfig] = []
    for index, entry in enumerate(entries, start=1):
        prefix = f"networks[{index}]"
        own = {k: v for k, v in entry.items() if k not in ("digest", "policy")}
        network = _load_network(_Section(root.source, prefix, own), allow_key=True)
        digest = _load_digest(
            _Section(
                root.source,
                f"{prefix}.digest",
                _merged(digest_defaults.data, _table(root, prefix, entry, "digest")),
            )
        )
        policies = _load_policies(
            _Section(
                root.source,
                f"{prefix}.policy",
                _merged(policy_defaults.data, _table(root, prefix, entry, "policy")),
            )
        )
        networks.append(replace(network, digest=digest, policies=policies))
    _check_networks(root.source, networks)
    return tuple(networks)


def _table(root: _Section, prefix: str, entry: Mapping[str, Any], name: str) -> Any:
    value = entry.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{root.source}: [{prefix}.{name}] must be a table")
    return value


def _check_networks(source: Path, networks: list[NetworkConfig]) -> None:
    """Nothing may make it ambiguous which network a chat or a command belongs to."""
    by_word: dict[str, str] = {}
    public: dict[int, str] = {}
    for index, network in enumerate(networks, start=1):
        where = f"networks[{index}] ({network.name})"
        for word in {network.key.casefold(), network.name.casefold()}:
            if word in by_word:
                raise ConfigError(
                    f"{source}: {where}: the name or key {word!r} is also {by_word[word]}'s:"
                    " each network needs its own (it is typed in /setup and on the command line)"
                )
        for word in {network.key.casefold(), network.name.casefold()}:
            by_word[word] = where
        chat = network.digest.public_chat_id
        if chat is not None:
            if chat in public:
                raise ConfigError(
                    f"{source}: {where}: digest.public_chat_id {chat} is also {public[chat]}'s:"
                    " a chat belongs to one network"
                )
            public[chat] = where


def _load_network(section: _Section, *, allow_key: bool = False) -> NetworkConfig:
    name = section.get("name", str).strip()
    if not name:
        raise section.fail("name", "must not be empty")
    key = network_key(name)
    if allow_key:
        key = section.get("key", str, key)
        if not _KEY_RE.match(key):
            raise section.fail(
                "key", "1 to 32 small letters, digits or -, starting with a letter or digit"
            )
    elif not key:
        key = "network"
    admins = section.get("admins", list)
    if not admins:
        raise section.fail("admins", "name at least one Telegram user id")
    for admin in admins:
        if isinstance(admin, bool) or not isinstance(admin, int) or admin <= 0:
            raise section.fail("admins", f"expected Telegram user ids (numbers), got {admin!r}")
    tz_name = section.get("timezone", str, "Europe/Berlin")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise section.fail("timezone", f"unknown time zone {tz_name!r}") from None
    language = section.get("language", str, "de")
    if language not in LANGUAGES:
        raise section.fail("language", f"must be one of {', '.join(LANGUAGES)}")
    section.reject_unknown()
    return NetworkConfig(
        name=name, admins=frozenset(admins), timezone=timezone, language=language, key=key
    )


def _load_limits(section: _Section) -> LimitsConfig:
    defaults = LimitsConfig()
    overall = section.get("overall_per_second", (int, float), defaults.overall_per_second)
    group = section.get("group_per_minute", int, defaults.group_per_minute)
    edits = section.get("card_edits_per_minute", int, defaults.card_edits_per_minute)
    retry_base = section.get("retry_base", (int, float), defaults.retry_base)
    retry_max = section.get("retry_max", (int, float), defaults.retry_max)
    window_text = section.get("group_window", str, "60s")
    try:
        window = parse_duration(window_text).total_seconds()
    except ValueError:
        raise section.fail("group_window", f"not a duration: {window_text!r}") from None
    if not 1 <= window <= 3600:
        raise section.fail("group_window", "must be between 1s and 1h (Telegram's is 60s)")
    if overall <= 0:
        raise section.fail("overall_per_second", "must be greater than 0")
    if not 1 <= group <= 20:
        raise section.fail("group_per_minute", "must be between 1 and 20 (Telegram's limit)")
    if not 1 <= edits <= group:
        raise section.fail("card_edits_per_minute", "must be between 1 and group_per_minute")
    if retry_base <= 0 or retry_max < retry_base:
        raise section.fail("retry_max", "must be at least retry_base, and both above 0")
    raw_grace = section.get("early_close_grace", str, "3s")
    try:
        grace = parse_duration(raw_grace)
    except ValueError:
        raise section.fail(
            "early_close_grace", f"expected a duration such as 3s, got {raw_grace!r}"
        ) from None
    if grace > MAX_EARLY_CLOSE_GRACE:
        raise section.fail("early_close_grace", "must be at most 10m (0s closes at once)")
    stuck_after = _duration(section, "stuck_after", "30m")
    if not timedelta(minutes=1) <= stuck_after <= timedelta(days=7):
        raise section.fail("stuck_after", "must be between 1m and 7d")
    section.reject_unknown()
    return LimitsConfig(
        float(overall),
        group,
        edits,
        float(retry_base),
        float(retry_max),
        float(window),
        early_close_grace=grace,
        stuck_after=stuck_after,
    )


def _duration(section: _Section, name: str, default: str) -> timedelta:
    raw = section.get(name, str, default)
    try:
        return parse_duration(raw)
    except ValueError:
        raise section.fail(name, f"expected a duration such as {default}, got {raw!r}") from None


def _load_health(section: _Section, poll_timeout: int) -> HealthConfig:
    interval = _duration(section, "interval", "15s")
    stale_after = _duration(section, "stale_after", "2m")
    if not timedelta(seconds=1) <= interval <= timedelta(minutes=10):
        raise section.fail("interval", "must be between 1s and 10m")
    # A getUpdates round trip may take poll_timeout, and the heartbeat that carries its end
    # comes up to one interval later: anything shorter would call a healthy bot stale.
    shortest = interval + timedelta(seconds=poll_timeout + 5)
    if stale_after < shortest:
        raise section.fail(
            "stale_after",
            f"must be at least interval + telegram.poll_timeout + 5s"
            f" ({int(shortest.total_seconds())}s)",
        )
    section.reject_unknown()
    return HealthConfig(interval=interval, stale_after=stale_after)


def _load_metrics(section: _Section) -> MetricsConfig:
    enabled = section.get("enabled", bool, False)
    listen = section.get("listen", str, "127.0.0.1").strip()
    if not listen:
        raise section.fail("listen", "must not be empty (127.0.0.1 serves this machine only)")
    port = section.get("port", int, 9464)
    if not 0 <= port <= 65535:
        raise section.fail("port", "must be between 0 and 65535")
    section.reject_unknown()
    return MetricsConfig(enabled=enabled, listen=listen, port=port)


def _load_webhook(section: _Section, env: Mapping[str, str], base_url: str) -> WebhookConfig | None:
    """[webhook]: without `url`, the bot long-polls (the other keys are checked all the same)."""
    url = section.get("url", str, "").strip()
    listen = section.get("listen", str, "127.0.0.1").strip()
    port = section.get("port", int, 8080)
    configured = section.get("secret_token", str, "")
    shared = section.get("workers_share_database", bool, False)
    lease = _duration(section, "worker_lease", "30s").total_seconds()
    section.reject_unknown()
    if not 1 <= lease <= 600:
        raise section.fail("worker_lease", "must be between 1s and 10m")
    if not listen:
        raise section.fail("listen", "must not be empty (127.0.0.1: only a local reverse proxy)")
    if not 1 <= port <= 65535:
        raise section.fail("port", "must be between 1 and 65535")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise section.fail("url", "must be an https:// address Telegram can reach")
    if parts.scheme == "http" and base_url == DEFAULT_BASE_URL:
        raise section.fail("url", "Telegram posts only to https:// addresses")
    if parts.query or parts.fragment:
        raise section.fail("url", "no ?query or #fragment: the path alone names the webhook")
    if (parts.path or "/") == HEALTHZ_PATH:
        raise section.fail("url", f"{HEALTHZ_PATH} is the health check's path: choose another")
    from_env = env.get(WEBHOOK_SECRET_ENV)
    secret = from_env or configured
    source = (
        f"{WEBHOOK_SECRET_ENV} (environment)"
        if from_env
        else f"{section.key('secret_token')} in {section.source}"
    )
    if not secret:
        raise section.fail(
            "secret_token",
            f"missing (set it here or in the environment as {WEBHOOK_SECRET_ENV}):"
            " without it anyone who learns the url could post updates",
        )
    if not _SECRET_RE.match(secret):
        problem = "must be 1 to 256 letters, digits, _ or - (what Telegram accepts)"
        if from_env:
            raise ConfigError(f"{WEBHOOK_SECRET_ENV}: {problem}")
        raise section.fail("secret_token", problem)
    return WebhookConfig(
        url=url,
        secret_token=secret,
        listen=listen,
        port=port,
        secret_source=source,
        workers_share_database=shared,
        worker_lease=lease,
    )


def _load_digest(section: _Section) -> DigestConfig:
    weekday = section.get("weekday", str, "monday").lower()
    if weekday not in WEEKDAYS:
        raise section.fail("weekday", f"must be one of {', '.join(WEEKDAYS)}")
    raw_time = section.get("time", str, "09:00")
    try:
        at = time.fromisoformat(raw_time)
    except ValueError:
        raise section.fail("time", f"expected HH:MM, got {raw_time!r}") from None
    quiet = section.get("quiet_week", str, "line")
    if quiet not in ("line", "nothing"):
        raise section.fail("quiet_week", "must be 'line' or 'nothing'")
    public = section.get("public_chat_id", int, 0) or None
    section.reject_unknown()
    return DigestConfig(weekday=weekday, time=at, quiet_week=quiet, public_chat_id=public)


def _policy_fields(section: _Section) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in POLICY_FIELDS:
        if name not in section.data:
            continue
        section.used.add(name)
        try:
            values[name] = coerce_field(name, section.data[name])
        except (TypeError, ValueError) as exc:
            raise section.fail(name, str(exc)) from None
    return values


def _load_policies(section: _Section) -> PolicyBook:
    """[policy] (all teams), [policy.ST] (a team kind), [policy.PT.admission] (a decision kind)."""
    network_wide = _policy_fields(section)
    by_team: dict[TeamKind, dict[str, Any]] = {}
    by_team_decision: dict[tuple[TeamKind, DecisionKind], dict[str, Any]] = {}
    team_names = {kind.value for kind in TeamKind}
    for team_name in list(section.data):
        if team_name in POLICY_FIELDS:
            continue
        if team_name not in team_names:
            raise section.fail(
                team_name, f"unknown key (team kinds: {', '.join(sorted(team_names))})"
            )
        team_section = section.section(team_name)
        team = TeamKind(team_name)
        by_team[team] = {**network_wide, **_policy_fields(team_section)}
        for decision_name in list(team_section.data):
            if decision_name in POLICY_FIELDS:
                continue
            if decision_name not in {kind.value for kind in DecisionKind}:
                raise team_section.fail(decision_name, "unknown key")
            decision_section = team_section.section(decision_name)
            by_team_decision[(team, DecisionKind(decision_name))] = _policy_fields(decision_section)
            decision_section.reject_unknown()
        team_section.reject_unknown()
    for team in TeamKind:
        by_team.setdefault(team, dict(network_wide))
    section.reject_unknown()
    return PolicyBook(by_team=by_team, by_team_decision=by_team_decision)


# -- what `wiq-bot check-config` says of a valid config -----------------------------------


def describe(config: Config) -> list[str]:
    """A valid config in a few lines (`wiq-bot check-config`): each network with what binds
    to it and what it decides by, and a note on every admin of several networks (not an
    ambiguity: /setup asks them to name the network, SPEC §1)."""
    count = len(config.networks)
    lines = [
        f"{config.path}: ok: {count} network{'s' if count != 1 else ''},"
        f" database {config.storage_path}"
    ]
    for network in config.networks:
        digest = network.digest
        admins = len(network.admins)
        public = "none" if digest.public_chat_id is None else str(digest.public_chat_id)
        lines.append(
            f"network {network.name!r} (key {network.key}): {admins}"
            f" admin{'s' if admins != 1 else ''}, {network.timezone.key}, {network.language},"
            f" digest {digest.weekday} {digest.time:%H:%M}, public chat {public}"
        )
        changed = policy_changes(network.policies)
        lines.append("  policy: " + ("; ".join(changed) if changed else "the defaults"))
    for admin, keys in shared_admins(config.networks).items():
        lines.append(
            f"note: admin {admin} is an admin of {len(keys)} networks ({', '.join(keys)}):"
            " in a group they name the network in /setup"
        )
    return lines


def shared_admins(networks: tuple[NetworkConfig, ...]) -> dict[int, list[str]]:
    """The admins of more than one network, with those networks' keys."""
    keys: dict[int, list[str]] = {}
    for network in networks:
        for admin in sorted(network.admins):
            keys.setdefault(admin, []).append(network.key)
    return {admin: found for admin, found in sorted(keys.items()) if len(found) > 1}


def policy_changes(book: PolicyBook) -> list[str]:
    """What a network's policy tables set apart from the charter's defaults, as the config
    writes it: `quorum = 0.6` (every team kind), `ST.quorum = 0.6`, `PT.admission.quorum`."""
    defaults = Policy()
    own = {
        team: {
            name: value
            for name, value in book.by_team.get(team, {}).items()
            if getattr(defaults, name) != value
        }
        for team in TeamKind
    }
    changes = []
    shared = {
        name: value
        for name, value in own[TeamKind.PT].items()
        if all(own[team].get(name) == value for team in TeamKind)
    }
    changes += [f"{name} = {_shown(value)}" for name, value in shared.items()]
    for team in TeamKind:
        changes += [
            f"{team.value}.{name} = {_shown(value)}"
            for name, value in own[team].items()
            if name not in shared
        ]
    for (team, decision), values in book.by_team_decision.items():
        changes += [
            f"{team.value}.{decision.value}.{name} = {_shown(value)}"
            for name, value in values.items()
        ]
    return changes


def _shown(value: object) -> str:
    if isinstance(value, timedelta):
        return format_duration(value)
    return str(getattr(value, "value", value))


__all__ = ["Config", "ConfigError", "describe", "load_config", "parse_duration"]
