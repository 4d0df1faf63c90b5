"""Analysts' personal API tokens."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_tokens", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/api-tokens")
