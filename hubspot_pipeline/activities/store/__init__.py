"""What the activity log reads and records in PostgreSQL. SQL only: `core` decides, the engine sequences."""
