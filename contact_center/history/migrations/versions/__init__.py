"""Alembic revisions of the history schema (a package so that installs ship them)."""
