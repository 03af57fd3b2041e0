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
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import SimpleLazyObject

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
    """Return the folder holding the embedded databases and key files; only locate it.

    Importing settings writes nothing: `tidings init` and `tidings migrate` create the folder
    (init_var_dir).
    """
    return Path(env("VAR_DIR") or Path.cwd() / "var").resolve()


class MissingKeyError(ImproperlyConfigured):
    """A key Tidings needs is neither configured nor in the var folder: run `tidings init`."""

    message_is_safe = True  # names a file and a command, never a value: the log redaction keeps it


# Key files in the var folder: name -> (environment variable that replaces it, bytes generated).
KEY_FILES = {"master.key": ("MASTER_KEY", 32), "secret.key": ("SECRET_KEY", 48)}


def missing_key_message(name: str) -> str:
    """Return the error for a missing key file: which file, which variable, and the command that fixes it."""
    variable, _ = KEY_FILES[name]
    return (
        f"no {name.removesuffix('.key')} key: {var_dir() / name} does not exist and TIDINGS_{variable} is unset;"
        f" run `tidings init` (or `tidings migrate`) to create it, or restore it from backup"
    )


def read_secret(path: Path) -> bytes | None:
    """Return the secret stored at path, or None when there is no such file. Never create it."""
    try:
        raw = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    if not raw:
        raise RuntimeError(f"{path} is empty; restore it from backup or remove it")
    return base64.b64decode(raw)


def read_or_create_secret(path: Path, nbytes: int) -> bytes:
    """Return the secret stored at path, generating it on first use with file mode 0600.

    The file is created with O_EXCL so two processes starting together cannot write
    different keys; the loser reads the winner's key.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = read_secret(path)
        if secret is None:
            raise RuntimeError(f"{path} vanished while being read") from None
        return secret
    secret = secrets.token_bytes(nbytes)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(secret) + b"\n")
    return secret


def init_var_dir() -> list[Path]:
    """Create the var folder (mode 0700) and every key file it lacks (mode 0600); return what was created.

    Never overwrites a key: a file already there is kept as it is. A key set in the environment
    (TIDINGS_MASTER_KEY, TIDINGS_SECRET_KEY) gets no file. Safe to run from several processes at once.
    """
    folder = var_dir()
    created = []
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # whatever the umask
        created.append(folder)
    # Static files collected or served through WhiteNoise, which warns about a missing STATIC_ROOT.
    (folder / "static").mkdir(exist_ok=True)
    for name, (variable, nbytes) in KEY_FILES.items():
        path = folder / name
        if env(variable) is None and not path.exists():
            read_or_create_secret(path, nbytes)
            created.append(path)
    return created


def master_key() -> bytes | None:
    """Return the 32-byte master key: TIDINGS_MASTER_KEY (base64) or var/master.key; None when neither exists.

    Only reads: use_master_key() raises MissingKeyError where a key is needed.
    """
    configured = env("MASTER_KEY")
    key = base64.b64decode(configured) if configured else read_secret(var_dir() / "master.key")
    if key is not None and len(key) != 32:
        raise RuntimeError("the master key must be 32 bytes, base64-encoded")
    return key


def use_master_key() -> bytes:
    """Return the master key of this process: settings.TIDINGS_MASTER_KEY, else the file made since start-up.

    Raise MissingKeyError, which says to run `tidings init`, when there is none.
    """
    from django.conf import settings

    key = settings.TIDINGS_MASTER_KEY
    if key is None:
        # Created by `tidings init` or `tidings migrate` in this process after settings were read.
        key = master_key()
        if key is None:
            raise MissingKeyError(missing_key_message("master.key"))
        settings.TIDINGS_MASTER_KEY = key
    return key


def require_keys() -> None:
    """Raise MissingKeyError unless the master key and Django's secret key are both there.

    Long-running processes (web, worker) call it at start, so a missing key stops them with the
    fix in the message instead of failing the first request or task that needs it.
    """
    from django.conf import settings

    use_master_key()
    bool(settings.SECRET_KEY)  # loads the stand-in of secret_key(), which raises when the file is missing


def _secret_key_from_file() -> str:
    raw = read_secret(var_dir() / "secret.key")
    if raw is None:
        raise MissingKeyError(missing_key_message("secret.key"))
    return base64.urlsafe_b64encode(raw).decode()


def secret_key() -> str:
    """Return Django's SECRET_KEY: TIDINGS_SECRET_KEY or var/secret.key.

    Without either, return a stand-in read on first use, which raises MissingKeyError if the file
    still does not exist then, so a command that signs nothing (`tidings help`, `tidings init`)
    runs without one.
    """
    configured = env("SECRET_KEY")
    if configured:
        return configured
    if (var_dir() / "secret.key").exists():
        return _secret_key_from_file()
    return SimpleLazyObject(_secret_key_from_file)  # type: ignore[return-value]


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


def region_alias(region: str) -> str:
    """Return the database alias of a region: the one place that names it (tidings.tenancy.context reads it)."""
    return f"region_{region}"


def databases() -> dict:
    """Return DATABASES: 'default' is the global database, region_alias(r) one per region."""
    url = env("DATABASE_URL")
    result = {"default": dj_database_url.parse(url, conn_max_age=60) if url else _sqlite("global")}
    for region in REGIONS:
        region_url = env(f"DATABASE_URL_{region.upper()}")
        result[region_alias(region)] = (
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
