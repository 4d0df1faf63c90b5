"""Tamper-evident audit trail of consent and data-rights events (GDPR accountability)."""
