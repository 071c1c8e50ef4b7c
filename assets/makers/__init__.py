"""Builders for the files under assets/. Run them through ../make_assets.py."""
