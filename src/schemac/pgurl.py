"""libpq connection strings: URLs built from parameters, and passwords kept out of messages."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg

from schemac.errors import EnvironmentFailure

__all__ = ["parse_conninfo", "redact", "url_from_params"]


def redact(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (URL or key=value conninfo form)."""
    if _is_url(url):
        try:
            parts = urlsplit(url)
        except ValueError:  # unparseable (a broken IPv6 host): mask everything between : and @
            return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        netloc = parts.netloc
        if at and ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{hostport}"
        query = "&".join(
            f"{key}=***" if key == "password" else f"{key}={quote(value, safe=',/:')}"
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


def _is_url(conninfo: str) -> bool:
    return conninfo.startswith(("postgresql://", "postgres://"))


def url_from_params(params: dict[str, str]) -> str:
    """Build a libpq URL; hosts that a URL authority cannot hold go to the query string."""
    remaining = dict(params)
    dbname = remaining.pop("dbname", "")
    user = remaining.pop("user", "")
    password = remaining.pop("password", "")
    host = remaining.get("host", "")
    port = remaining.get("port", "")
    authority = ""
    if host and "," not in host and not host.startswith("/") and "," not in port:
        del remaining["host"]
        authority = f"[{host}]" if ":" in host else quote(host, safe="")
        if port:
            del remaining["port"]
            authority += f":{port}"
    if user:
        credentials = quote(user, safe="")
        if password:
            credentials += ":" + quote(password, safe="")
        authority = f"{credentials}@{authority}"
    elif password:
        remaining["password"] = password
    query = urlencode(remaining, safe=",/:")
    return urlunsplit(("postgresql", authority, "/" + quote(dbname, safe=""), query, ""))


def parse_conninfo(conninfo: str) -> dict[str, str]:
    try:
        parsed = psycopg.conninfo.conninfo_to_dict(conninfo)
    except (psycopg.ProgrammingError, ValueError):
        # libpq's message quotes the token it could not parse, which may be the password.
        raise EnvironmentFailure(
            f"not a valid PostgreSQL connection URL: {redact(conninfo)} "
            "(percent-encode special characters in the user name and password)"
        ) from None
    return {key: str(value) for key, value in parsed.items() if value is not None}
