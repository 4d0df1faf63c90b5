"""Pages anyone can open: the home page, language entry point, health check."""
