"""Performance measurements, run as CLI commands (never as timed tests)."""
