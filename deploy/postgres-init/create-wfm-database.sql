-- One PostgreSQL server, two databases: the Dagster instance (POSTGRES_DB) and the WFM tables. They stay apart
-- because both keep an `alembic_version` table.
CREATE DATABASE wfm;
