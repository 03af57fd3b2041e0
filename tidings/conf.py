"""Read Tidings' configuration from the environment: the one documented place (docs/configuration.md).

Settings import only this module, so every knob an operator can turn is listed here.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url

from tidings.inputs import parse_bool  # imports nothing of Tidings' own, so settings may use it

REGIONS = ("us", "eu")


def env(name: str, default: str | None = None) -> str | None:
    """Return TIDINGS_<name> from the environment, or default when unset or empty."""
    value = os.environ.get(f"TIDINGS_{name}")
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return parse_bool(value)


def proxy_hops() -> int:
    """Return how many reverse proxies in front of Tidings to trust (TIDINGS_BEHIND_PROXY).

    0 (the default, also "false") means none: X-Forwarded-* headers are ignored. "true" means one.
    A number N means N proxies, each appending to X-Forwarded-For. Raise RuntimeError on anything else.
    """
    value = (env("BEHIND_PROXY") or "0").strip().lower()
    if value in {"true", "yes", "on"}:
        return 1
    if value in {"false", "no", "off"}:
        return 0
    if not value.isascii() or not value.isdigit() or int(value) > 10:
        raise RuntimeError("TIDINGS_BEHIND_PROXY must be false, true or a number of proxies from 0 to 10")
    return int(value)


def var_dir() -> Path:
    """Return the folder holding the embedded databases and generated keys, creating it."""
    path = Path(env("VAR_DIR") or Path.cwd() / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_or_create_secret(path: Path, nbytes: int) -> bytes:
    """Return the secret stored at path, generating it on first use with file mode 0600.

    The file is created with O_EXCL so two processes starting together cannot write
    different keys; the loser reads the winner's key.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raw = path.read_bytes().strip()
        if not raw:
            raise RuntimeError(f"{path} is empty; restore it from backup or remove it") from None
        return base64.b64decode(raw)
    secret = secrets.token_bytes(nbytes)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(secret) + b"\n")
    return secret


def master_key() -> bytes:
    """Return the 32-byte master key: TIDINGS_MASTER_KEY (base64) or var/master.key."""
    configured = env("MASTER_KEY")
    if configured:
        key = base64.b64decode(configured)
    else:
        key = read_or_create_secret(var_dir() / "master.key", 32)
    if len(key) != 32:
        raise RuntimeError("the master key must be 32 bytes, base64-encoded")
    return key


def secret_key() -> str:
    configured = env("SECRET_KEY")
    if configured:
        return configured
    return base64.urlsafe_b64encode(read_or_create_secret(var_dir() / "secret.key", 48)).decode()


def _sqlite(name: str) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(var_dir() / f"{name}.sqlite3"),
        "OPTIONS": {
            # Immediate transactions take the write lock up front, so concurrent writers
            # wait on busy_timeout instead of failing with "database is locked" mid-way.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
        "TEST": {"NAME": str(var_dir() / f"test-{name}.sqlite3") if env_bool("TEST_SQLITE_FILES") else None},
    }


def databases() -> dict:
    """Return DATABASES: 'default' is the global database, 'region_<r>' one per region."""
    url = env("DATABASE_URL")
    result = {"default": dj_database_url.parse(url, conn_max_age=60) if url else _sqlite("global")}
    for region in REGIONS:
        region_url = env(f"DATABASE_URL_{region.upper()}")
        result[f"region_{region}"] = (
            dj_database_url.parse(region_url, conn_max_age=60) if region_url else _sqlite(f"region-{region}")
        )
    return result


def email_settings() -> dict:
    """Return Django's EMAIL_* settings from TIDINGS_SMTP_URL, or a file backend under var/mail."""
    url = env("SMTP_URL")
    if not url:
        return {
            "EMAIL_BACKEND": "tidings.mail.PrivateFileEmailBackend",
            "EMAIL_FILE_PATH": str(var_dir() / "mail"),
        }
    parsed = urlparse(url)
    options = parse_qs(parsed.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "127.0.0.1",
        "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": parsed.scheme == "smtps",
        "EMAIL_USE_TLS": parse_bool(options.get("starttls", ["0"])[0]),
        "EMAIL_TIMEOUT": 30,
    }


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    """Return TIDINGS_<name> as an integer of at least minimum, or default when unset.

    Raise RuntimeError naming the variable when it is not a whole number or is below minimum.
    """
    value = env(name)
    if value is None:
        return default
    try:
        number = int(value.strip().replace("_", ""))
    except ValueError:
        raise RuntimeError(f"TIDINGS_{name} must be a whole number") from None
    if number < minimum:
        raise RuntimeError(f"TIDINGS_{name} must be at least {minimum}")
    return number


def import_limits() -> dict:
    """Return the CSV import limits (each refused upload gets a clear error naming the limit):

    - TIDINGS_IMPORT_MAX_BYTES (default 268435456, 256 MiB): the largest file accepted;
    - TIDINGS_IMPORT_MAX_COLUMNS (default 500): the most columns a file may have (the mapping
      page renders one field chooser per column);
    - TIDINGS_IMPORT_PREVIEW_ROWS (default 5, at most 50): rows read and shown on the mapping page.
    """
    return {
        "TIDINGS_IMPORT_MAX_BYTES": env_int("IMPORT_MAX_BYTES", 256 * 1024 * 1024),
        "TIDINGS_IMPORT_MAX_COLUMNS": env_int("IMPORT_MAX_COLUMNS", 500),
        "TIDINGS_IMPORT_PREVIEW_ROWS": min(50, env_int("IMPORT_PREVIEW_ROWS", 5)),
    }
