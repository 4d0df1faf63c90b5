"""Consent and data rights."""
