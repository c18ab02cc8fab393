"""Where the committed sample lives, found through importlib.resources so it works installed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _resource(name: str) -> Path:
    # Traversables are only guaranteed to be real paths for packages installed as directories,
    # which is how this package ships (the sample is read by ingest, which needs a filesystem path).
    return Path(str(resources.files("sample_data") / name))


def committed_transcripts_dir() -> Path:
    """sample_data/transcripts: one folder per user (`agentledger ingest DIR --user-from-dir`)."""
    return _resource("transcripts")


def committed_org_csv() -> Path:
    """sample_data/org.csv for the committed sample (one of its users is deliberately missing)."""
    return _resource("org.csv")


def committed_ground_truth() -> Path:
    """sample_data/transcripts/ground_truth.json: what the committed sample planted."""
    return committed_transcripts_dir() / "ground_truth.json"
