"""Seeders that write the demo's data and synthetic history (Django code; the demo service beside
it, demo/app.py, and its suite, demo/e2e, are plain programs that import none of it)."""
