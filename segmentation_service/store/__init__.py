"""The customer store: SQLAlchemy tables, repositories and the unit of work."""
