"""Alembic migrations of graphwarden's one relational schema."""
