"""Participants: one pseudonymous person across everything they do."""
