"""Git as a source: repositories scanned into the git_* tables (scan.py), blamed on demand (blame.py)."""
