"""SQL is understood by PostgreSQL's own parser (pglast), never by regular expressions.

`parse` checks and dissects the texts the YAML passes through (expressions, queries, bodies,
type names); `references` lists what a text names; `typed` checks the fields that reach SQL
but are not SQL (setting names, storage parameters, operators); `statements` splits scripts
and rewrites CREATE INDEX, `classify` says what a statement does (both for the diff side).
Every function is pure; results are frozen.
"""
