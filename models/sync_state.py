"""Instance-local state of the two deployment modes (docs/deploy.md, "Two deployment modes").

``sync_node`` holds this database's node (0 the ministry, 37 Shandong's own instance …): the id space its rows
are numbered in (models/db.py) and the province a province instance is limited to. While ``cli.py sync`` applies
a peer's page, ``origin`` holds the peer's node inside that transaction, so the change-log triggers mark the
rows as the peer's and the feed does not send them back (models/change_log.py).

``sync_state`` holds, per peer node, the position reached in the peer's feed (``cursor``, written in the same
transaction as the page it follows) and the position of our feed the peer has confirmed (``acked``, from the
``since`` of its last request): changes of ours after ``acked`` are still pending at the peer.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.columns import time_field


class SyncNode(SQLModel, table=True):
    __tablename__ = "sync_node"

    id: int = Field(default=1, primary_key=True)
    node: int
    mode: str = Field(max_length=20)
    prefix: str = Field(default="", max_length=2)
    """The province prefix a province instance is limited to; empty on the ministry's instance."""
    origin: int | None = None
    """Set only inside a sync transaction: the node whose rows are being applied."""


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"

    peer_node: int = Field(primary_key=True)
    peer_url: str = Field(default="", max_length=300)
    cursor: str = Field(default="", max_length=60)
    """Position reached in the peer's feed (opaque; see resolvers/changes.py)."""
    acked: str = Field(default="", max_length=60)
    """Position of this instance's feed that the peer has applied."""
    pages: int = 0
    rows: int = 0
    updated_at: datetime = time_field(default_now=True)
