"""What the scoring records in PostgreSQL: engagement events (the workflow-trigger sensor's input), reply
intents on stored replies, and each lead's published engagement. The rules themselves stay pure, one level up."""
