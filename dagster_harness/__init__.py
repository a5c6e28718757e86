"""What the tests and the benchmarks share to drive real deployments: a Dagster webserver and daemon over GraphQL
(`deployment`), Celery workers and `dagster job execute` (`celery_workers`), a RabbitMQ virtual host of one's own
(`rabbitmq`) and the one day the emulated data comes from (`reference_day`).

Not a test module: no pytest, no fixtures; the tests' conftest wraps what needs a skip when a service is missing.
"""
