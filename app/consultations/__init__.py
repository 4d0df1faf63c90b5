"""Consultations and deliberation."""
