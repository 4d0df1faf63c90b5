"""Importing responses from CSV."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("results_import", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/results")
