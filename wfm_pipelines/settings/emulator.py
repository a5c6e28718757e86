"""The local Talkdesk emulator the defaults point at (`make run` starts it): its address and its demo OAuth client.
Not secrets: they only open the local emulator."""

from __future__ import annotations

EMULATOR_HOST = "127.0.0.1"
EMULATOR_PORT = 8089
EMULATOR_URL = f"http://{EMULATOR_HOST}:{EMULATOR_PORT}"
EMULATOR_CLIENT_ID = "wfm-demo-client"
EMULATOR_CLIENT_SECRET = "wfm-demo-secret"
