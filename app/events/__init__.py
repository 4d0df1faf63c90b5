"""Transnational engagement events."""
