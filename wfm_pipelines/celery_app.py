"""The Celery app of the workers that run steps when WFM_EXECUTOR=celery:

    dagster-celery worker start -A wfm_pipelines.celery_app       (or: make worker)

It reads the same environment as the code location (WFM_CELERY_BROKER_URL, WFM_DATABASE_URL, WFM_RAW_STORE,
TALKDESK_*), checks it before taking any task, and loads the definitions once, before the worker forks its
pool processes, so a step does not pay for the import.
"""

from __future__ import annotations

from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

import wfm_pipelines.warm_start  # noqa: F401 - built before the pool forks; a bad setting stops the worker at start
from wfm_pipelines.defs.executors import CELERY_APP_SETTINGS
from wfm_pipelines.settings import load_settings

app = make_app(CeleryExecutor.for_cli(broker=load_settings().celery_broker_url,
                                      config_source=CELERY_APP_SETTINGS).app_args())

execute_plan = create_task(app)
