"""What every interval asset's step starts from: its account's Talkdesk client, the WFM store, the collection
options of the run and the report formats of the account, in one place for both interval assets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
from sqlalchemy.engine import Engine

from wfm_pipelines.collection.options import CollectionOptions
from wfm_pipelines.collection.report_formats import ReportFormats
from wfm_pipelines.defs.collection_settings import CollectionSettings
from wfm_pipelines.defs.store import WfmStore
from wfm_pipelines.defs.talkdesk_resources import TalkdeskResource, historical_resource_key
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.settings import Account

INTERVAL_STEP_RESOURCES = ("wfm_database", "wfm_collection")


def interval_step_resource_keys(account: Account) -> set[str]:
    return {historical_resource_key(account), *INTERVAL_STEP_RESOURCES}


def interval_check_specs(asset_key: dg.AssetKey, descriptions: dict[str, str]) -> list[dg.AssetCheckSpec]:
    """The asset's checks, by name and description; their results follow the asset's output in its step."""
    return [dg.AssetCheckSpec(name, asset=asset_key, description=text) for name, text in descriptions.items()]


@dataclass(frozen=True)
class IntervalStep:
    talkdesk: TalkdeskResource
    store: WfmStore
    engine: Engine
    raw_store: RawStore
    window: dg.TimeWindow
    options: CollectionOptions
    formats: ReportFormats
    # Talkdesk's report runner, asking each report in the format the account's formats decide.
    run_report: Callable


@contextmanager
def interval_step(context: dg.AssetExecutionContext, account: Account) -> Iterator[IntervalStep]:
    """The step's collection context; the report-format decisions are logged once it is over, failed or not."""
    talkdesk: TalkdeskResource = getattr(context.resources, historical_resource_key(account))
    store: WfmStore = context.resources.wfm_database
    collection: CollectionSettings = context.resources.wfm_collection
    engine = store.engine()
    with collection.report_formats(engine, account.id, context.log) as formats:
        yield IntervalStep(
            talkdesk=talkdesk, store=store, engine=engine, raw_store=store.raw_store(),
            window=context.partition_time_window, options=collection.options(store.shrink_guard(context.run.tags)),
            formats=formats, run_report=formats.runner(talkdesk.client().run_report))
