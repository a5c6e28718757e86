"""Talkdesk emulator: a real HTTP server speaking Talkdesk's documented API with deterministic synthetic data.

`EmulatorServer(EmulatorConfig(...)).start()` runs it in a background thread; `talkdesk-emulator` runs it from
the command line. Nothing here imports Dagster.
"""
