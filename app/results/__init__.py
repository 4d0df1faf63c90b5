"""Results: what analysts get out — only answers that may be analysed right now."""
