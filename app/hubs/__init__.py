"""Hubs: the national (or regional) Cancer Mission Hubs that own work."""
