"""A RabbitMQ virtual host with a user of its own, for a run on the Celery executor (tests and benchmarks)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

DEFAULT_RABBITMQ_ADMIN_URL = "amqp://guest:guest@127.0.0.1:5672//"


class RabbitmqctlFailed(RuntimeError):
    """`rabbitmqctl` could not be run, or did not finish: the virtual host cannot be made here."""


def rabbitmq_admin_url() -> str:
    return os.environ.get("WFM_TEST_RABBITMQ_URL", DEFAULT_RABBITMQ_ADMIN_URL)


def _rabbitmqctl(*args: str, check: bool = True) -> None:
    try:
        subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = (getattr(exc, "stderr", b"") or b"").decode(errors="replace")[:300]
        raise RabbitmqctlFailed(f"cannot create a RabbitMQ virtual host with rabbitmqctl: {type(exc).__name__} "
                                f"{detail}") from exc


@contextmanager
def fresh_virtual_host(admin_url: str | None = None) -> Iterator[str]:
    """The broker URL of a new RabbitMQ virtual host and a user of its own with a random password (both deleted
    afterwards, queues and all): no other run and no leftover worker can take its tasks, and a test can look
    for the password where it must never show. Needs `rabbitmqctl`, run by root or the rabbitmq user; raises
    `RabbitmqctlFailed` when that cannot be run."""
    name = f"wfm_t_{uuid.uuid4().hex[:12]}"
    password = f"pw-{uuid.uuid4().hex}"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("add_user", name, password)
        _rabbitmqctl("set_permissions", "-p", name, name, ".*", ".*", ".*")
        admin = urlsplit(admin_url or rabbitmq_admin_url())
        yield urlunsplit(admin._replace(netloc=f"{name}:{password}@{admin.hostname}:{admin.port or 5672}",
                                        path="/" + name))
    finally:
        _rabbitmqctl("delete_vhost", name, check=False)
        _rabbitmqctl("delete_user", name, check=False)
