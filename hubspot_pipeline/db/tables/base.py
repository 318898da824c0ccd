import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData()

NOW = sa.text("now()")
GEN_UUID = sa.text("gen_random_uuid()")


def uuid_pk() -> sa.Column:
    return sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=GEN_UUID)


def workspace_fk(*, nullable: bool = True, cascade: bool = False, ondelete: str | None = None) -> sa.Column:
    return sa.Column(
        "workspace_id",
        UUID(as_uuid=True),
        sa.ForeignKey("workspaces.id", ondelete="CASCADE" if cascade else ondelete),
        nullable=nullable,
    )
