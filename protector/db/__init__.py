"""Database access: models, the enginefacade and alembic migrations."""
