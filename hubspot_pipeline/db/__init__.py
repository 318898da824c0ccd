"""Database access: connection URLs, engines, table definitions and migrations."""
