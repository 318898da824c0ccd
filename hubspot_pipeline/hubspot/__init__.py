"""Everything that talks to HubSpot. Knows nothing of Dagster."""
