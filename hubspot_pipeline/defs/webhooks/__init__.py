"""The real-time path: sensors that turn the webhook queue and the API's sync requests into sync runs."""
