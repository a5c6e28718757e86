"""Every resource of the code location, built from the settings once."""

from __future__ import annotations

import dagster as dg

from wfm_pipelines.defs.collection_settings import CollectionSettings
from wfm_pipelines.defs.io_manager import WfmTableIOManager
from wfm_pipelines.defs.store import WfmStore
from wfm_pipelines.defs.talkdesk_resources import talkdesk_resources
from wfm_pipelines.settings import Settings


def build_store(settings: Settings) -> WfmStore:
    # The URL may hold a password: when it comes from the environment, Dagster reads it as an EnvVar and
    # shows only the variable's name in the UI.
    database_url = dg.EnvVar(settings.database_url_var) if settings.database_url_var else settings.database_url
    return WfmStore(url=database_url, connect_timeout_s=settings.db_connect_timeout_s,
                    statement_timeout_s=settings.db_statement_timeout_s, raw_store_root=settings.raw_store,
                    min_free_disk_mb=settings.min_free_disk_mb,
                    shrink_guard_share=settings.shrink_guard_share, shrink_guard_min_drop=settings.shrink_guard_min_drop)


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    store = build_store(settings)
    return {
        **talkdesk_resources(settings),
        # The key keeps its first name: runs, sensors and the UI's resource view know the store by it.
        "wfm_database": store,
        "wfm_io_manager": WfmTableIOManager(store=store, people_preview=settings.metadata_people_preview),
        "wfm_collection": CollectionSettings.from_settings(settings),
    }
