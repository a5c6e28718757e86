"""Imported by a process before it forks step processes (the multiprocess executor's forkserver preloads it): builds
the code location and resolves its jobs once, so every forked step inherits them instead of building them again."""

from wfm_pipelines.definitions import definitions_from_environment

definitions_from_environment()
