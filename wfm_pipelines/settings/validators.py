"""The values that are addresses: Talkdesk URLs, the WFM database URL, the raw store's directory and the RabbitMQ
broker URL. Each check names where the value comes from and never quotes what may hold a password."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from wfm_pipelines.settings.environment import (
    SettingsError,
    default_database_url,
    default_raw_store,
    env_value,
    shown,
)
from wfm_pipelines.settings.variables import DEFAULT_CELERY_BROKER_URL

_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$")


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: a host only this machine answers on."""
    host = host.lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def talkdesk_url(env: Mapping[str, str], name: str, default: str) -> str:
    return check_talkdesk_url(env_value(env, name, default), name)


def check_talkdesk_url(raw: str, name: str) -> str:
    """A Talkdesk base or API URL: https (http only for a loopback host), a host, no credentials.

    `name` says where the value comes from (a variable, or a key of the accounts file). A URL with `@`
    (user:password@host), a query or a fragment is refused without being quoted.
    """
    expected = "expected https://host, e.g. https://acme.talkdeskid.com or https://api.talkdeskapp.com"
    if "@" in raw:
        raise SettingsError(f"{name} holds credentials ('user:password@' in the URL; value not shown): {expected}, "
                            "with no credentials in it; the OAuth client goes in the *_CLIENT_ID and "
                            "*_CLIENT_SECRET variables")
    if "?" in raw or "#" in raw:
        raise SettingsError(f"{name} has a query or fragment ('?...' or '#...'; value not shown): {expected}, "
                            "with no query or fragment")
    quoted = shown(raw)
    if "://" not in raw:
        raise SettingsError(f"{name}={quoted} has no scheme; {expected}")
    scheme, host = _scheme_and_host(raw, f"{name}={quoted} has an unreadable host or port; {expected}")
    if scheme not in ("https", "http"):
        raise SettingsError(f"{name}={quoted} has scheme {scheme!r}; {expected}")
    if not host:
        raise SettingsError(f"{name}={quoted} has no host; {expected}")
    if not (_HOSTNAME.match(host) or _is_ip(host)):
        raise SettingsError(f"{name}={quoted} has an invalid host name {host!r}; {expected}")
    if scheme == "http" and not is_loopback_host(host):
        raise SettingsError(f"{name}={quoted} uses http for {host}, which is not a loopback address: credentials "
                            f"and tokens would travel unencrypted; {expected} (http:// is accepted only for "
                            "localhost, 127.0.0.0/8 and ::1)")
    return raw.rstrip("/")


def _scheme_and_host(url: str, unreadable: str) -> tuple[str, str | None]:
    """The URL's scheme (lower case) and host; a bad host or port raises SettingsError(unreadable)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read only so that a bad port is refused
    except ValueError:
        raise SettingsError(unreadable) from None
    return parts.scheme.lower(), parts.hostname


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def database_url(env: Mapping[str, str], name: str = "WFM_DATABASE_URL") -> str:
    """A WFM database URL whose driver is supported (`wfm_pipelines.database_urls.normalise_url`).

    The URL is returned as given (the engine normalises it); messages show it with the password and any
    query parameters hidden, or not at all when it cannot be parsed.
    """
    raw = env_value(env, name, "")
    if not raw:
        return default_database_url(env)
    # Here, not at import: SQLAlchemy loads only when a URL is given to check.
    import sqlalchemy as sa

    from wfm_pipelines.database_urls import normalise_url, safe_url

    expected = "expected sqlite:///path/to/wfm.db or postgresql+psycopg://user:password@host:5432/dbname"
    try:
        parsed = sa.make_url(raw)
    except Exception:  # noqa: BLE001 - SQLAlchemy's message would quote the URL, password and all
        raise SettingsError(f"{name} is not a database URL SQLAlchemy can read (not shown: it may hold a "
                            f"password); {expected}") from None
    if parsed.host and "@" in parsed.host:
        raise SettingsError(f"{name} has an '@' after its credentials (not shown): percent-encode '@' in the "
                            f"password as %40; {expected}")
    quoted = safe_url(parsed.set(query={})) + ("?..." if parsed.query else "")
    try:
        supported = normalise_url(parsed)
        supported.get_dialect()  # an unknown driver (e.g. sqlite+foo) fails here rather than at first use
    except Exception as exc:  # noqa: BLE001 - ValueError from normalise_url, NoSuchModuleError for a plugin
        reason = str(exc) if isinstance(exc, ValueError) else f"no SQLAlchemy driver {parsed.drivername!r}"
        raise SettingsError(f"{name}={quoted} is not supported: {reason}; {expected}") from None
    return raw


def raw_store(env: Mapping[str, str], name: str = "WFM_RAW_STORE") -> str:
    """The raw store's root as an absolute local path: a path or a `file://` URL naming a directory that
    exists or can be created (nothing is created here)."""
    raw = env_value(env, name, "")
    if not raw:
        return os.path.abspath(default_raw_store(env))
    expected = "expected a local directory, e.g. /var/lib/wfm/raw or file:///var/lib/wfm/raw"
    if "\x00" in raw:
        raise SettingsError(f"{name} holds a NUL character; {expected}")
    path = raw
    scheme, separator, _ = raw.partition("://")
    if separator:
        parts = urlsplit(raw)
        if scheme.lower() != "file":
            raise SettingsError(f"{name}={shown(raw)} uses {scheme}://, which this version cannot store to; {expected}")
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise SettingsError(f"{name}={shown(raw)} is not a local file URL; {expected}")
        path = unquote(parts.path)
    path = os.path.abspath(os.path.expanduser(path))
    _check_directory_can_be(path, f"{name}={shown(raw)}", expected)
    return path


def _check_directory_can_be(path: str, where: str, expected: str) -> None:
    """`path` is a writable directory, or its nearest existing ancestor is one it can be created in."""
    existing = Path(path)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == Path(path) and not existing.is_dir():
        raise SettingsError(f"{where} is a file, not a directory; {expected}")
    if not existing.is_dir():
        raise SettingsError(f"{where} cannot be created: {str(existing)!r} is a file; {expected}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SettingsError(f"{where} is not writable ({str(existing)!r} refuses this user); {expected}")


def celery_broker_url(env: Mapping[str, str], name: str = "WFM_CELERY_BROKER_URL") -> str:
    """A RabbitMQ URL; messages show its scheme and host only, never the credentials or the rest."""
    raw = env_value(env, name, DEFAULT_CELERY_BROKER_URL)
    expected = "expected amqp://user:password@host:5672/vhost (amqps:// for TLS), e.g. " + DEFAULT_CELERY_BROKER_URL
    scheme, separator, _ = raw.partition("://")
    if not separator:
        raise SettingsError(f"{name} has no scheme (value not shown: it may hold a password); {expected}")
    _, host = _scheme_and_host(raw, f"{name} has an unreadable host or port (value not shown); {expected}")
    if scheme.lower() not in ("amqp", "amqps", "pyamqp"):
        raise SettingsError(f"{name} uses {shown(scheme[:20] + '://')}, which is not a RabbitMQ (AMQP) URL; {expected}")
    if not host:
        raise SettingsError(f"{name} ({scheme}://...) has no host; {expected}")
    return raw
