"""The jobs that collect the accounts' assets.

Without an accounts file they are today's: `contact_volume_job`, `agent_state_transactions_job`,
`interval_collection_job` (both) and `configuration_job`. With one, a tick is ONE run over every enabled
account: `interval_collection_job` selects each account's two interval assets (a step per account and
asset) and `configuration_job` each account's configuration assets; healing and hand-made requests run a
subset of them through `asset_selection`.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from wfm_pipelines.defs.configuration.assets import CONFIGURATION_ASSETS
from wfm_pipelines.defs.partitions import CONFIGURATION_RUN_MAX_SECONDS, INTERVAL_RUN_MAX_SECONDS, max_runtime_tags
from wfm_pipelines.settings import Account

INTERVAL_ASSETS = ("contact_volume", "agent_state_transactions")


def _keys(accounts: tuple[Account, ...], names: tuple[str, ...]) -> list[dg.AssetKey]:
    return [dg.AssetKey(account.asset_key(name)) for account in accounts for name in names]


@dataclass(frozen=True)
class JobTarget:
    """What a run request names to collect one asset of one account."""

    job_name: str
    asset_selection: list[dg.AssetKey] | None  # None: the whole job


# The jobs of one interval asset, for an account that keeps them (`Account.asset_job_name`).
ASSET_JOB_DESCRIPTIONS = {
    "contact_volume": "Collect 15-minute contact volume for a range of intervals.",
    "agent_state_transactions": "Collect agent state transactions for a range of intervals.",
}


@dataclass(frozen=True)
class CollectionJobs:
    interval: dg.UnresolvedAssetJobDefinition
    configuration: dg.UnresolvedAssetJobDefinition
    # Jobs of one interval asset, by asset key: only for an account that keeps today's job names.
    per_asset: dict[dg.AssetKey, dg.UnresolvedAssetJobDefinition]
    accounts: tuple[Account, ...]  # the enabled ones, which the jobs select

    @property
    def all(self) -> list[dg.UnresolvedAssetJobDefinition]:
        return [self.configuration, *self.per_asset.values(), self.interval]

    def interval_target(self, account: Account, asset_name: str) -> JobTarget:
        key = dg.AssetKey(account.asset_key(asset_name))
        if key in self.per_asset:
            return JobTarget(self.per_asset[key].name, None)
        return JobTarget(self.interval.name, [key])

    def configuration_target(self, account: Account) -> JobTarget:
        if self.accounts == (account,):  # the job is this account's alone: no selection needed
            return JobTarget(self.configuration.name, None)
        return JobTarget(self.configuration.name, _keys((account,), CONFIGURATION_ASSETS))


def build_jobs(accounts: tuple[Account, ...]) -> CollectionJobs | None:
    """The jobs over the enabled accounts among `accounts`; None when no account is enabled (nothing to run)."""
    enabled = tuple(account for account in accounts if account.enabled)
    if not enabled:
        return None
    interval_tags = max_runtime_tags(INTERVAL_RUN_MAX_SECONDS)
    per_asset = {
        dg.AssetKey(account.asset_key(name)): dg.define_asset_job(
            job_name, selection=_keys((account,), (name,)), tags=interval_tags, description=description)
        for account in enabled for name, description in ASSET_JOB_DESCRIPTIONS.items()
        if (job_name := account.asset_job_name(name))
    }
    # Jobs that keep today's per-asset names keep today's descriptions too.
    accounts_text = "" if per_asset else f" of every enabled account ({len(enabled)}), a step per account and asset"
    return CollectionJobs(
        interval=dg.define_asset_job(
            "interval_collection_job", selection=_keys(enabled, INTERVAL_ASSETS), tags=interval_tags,
            description=f"Collect contact volume and agent state transactions{accounts_text} for a range of "
            "intervals in one run."),
        configuration=dg.define_asset_job(
            "configuration_job", selection=_keys(enabled, CONFIGURATION_ASSETS),
            tags=max_runtime_tags(CONFIGURATION_RUN_MAX_SECONDS),
            description=f"Import agents, queues and queue memberships{accounts_text} from Talkdesk."),
        per_asset=per_asset,
        accounts=enabled,
    )
