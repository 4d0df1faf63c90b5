"""Staff accounts, roles and permissions. Participants never need an account."""
