"""Activity, notifications, the event outbox and the WebSocket layer."""
