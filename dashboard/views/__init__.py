"""Page scripts the router in app.py runs (a package so they ship; deliberately not a legacy pages/ folder)."""
