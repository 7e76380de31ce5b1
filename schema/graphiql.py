"""GraphiQL served whole by this app, with no CDN.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from unpkg.com; browsers that cannot
reach it (closed networks, this project's machines) get a page stuck at "Loading...", and those that can tell
a third party about every visit. ``graphiql_html`` is strawberry's own page with those links pointed at
``/static/graphiql/``, where ``assets`` serves the very same files from ``data/graphiql/`` (same versions and
paths; the page's SRI hashes still hold, and the tests check them). ``data/graphiql/README.md`` says where the
files come from and how to refresh them when strawberry moves to other versions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

ASSETS = Path(__file__).resolve().parent.parent / "data" / "graphiql"
PREFIX = "/static/graphiql"
CDN = "https://unpkg.com/"


@cache
def graphiql_html() -> str:
    page = get_graphql_ide_html("graphiql")
    if CDN not in page:
        raise RuntimeError("strawberry's GraphiQL page no longer loads from unpkg: update schema/graphiql.py")
    return page.replace(CDN, f"{PREFIX}/")


def assets() -> Mount:
    return Mount(PREFIX, StaticFiles(directory=ASSETS), name="graphiql-assets")
