"""Run the emulator in a background thread: `EmulatorServer(EmulatorConfig(...)).start()`."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from talkdesk_emulator.app import EmulatorApp
from talkdesk_emulator.config import EmulatorConfig

__all__ = ["EmulatorConfig", "EmulatorServer"]

request_log = logging.getLogger("talkdesk_emulator.requests")


class _RequestLogHandler(WSGIRequestHandler):
    """One line per request on our own logger (werkzeug's default handler would configure logging itself)."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        request_log.info('%s "%s %s" %s', self.address_string(), self.command, self.path, getattr(code, "value", code))

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        getattr(request_log, type if type in ("info", "warning", "error") else "info")(message, *args)


class EmulatorServer:
    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or EmulatorConfig()
        self.app = EmulatorApp(self.config)
        self._server = make_server(host, port, self.app, threaded=True, request_handler=_RequestLogHandler)
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="talkdesk-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the console script)."""
        self._server.serve_forever()

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Same as POST /_emulator/faults; raises ValueError for an unknown key or a bad value."""
        return self.app.faults.update(changes)

    def faults(self) -> dict[str, Any]:
        return self.app.faults.snapshot()

    def reset(self) -> None:
        """Same as POST /_emulator/reset: faults back to defaults, jobs and counters cleared."""
        self.app.reset()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
