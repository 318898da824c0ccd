"""What workflow triggers read and record in PostgreSQL."""
