"""The staff workspace: pages that span domains, and user management."""
