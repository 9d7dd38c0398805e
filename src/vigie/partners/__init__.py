"""Partner organisations (platforms, airlines) and their API keys."""
