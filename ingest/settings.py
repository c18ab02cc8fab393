"""How ingest reads and writes, in one pydantic-settings model (env AGENTLEDGER_<NAME>), with why.

docs/architecture.md lists every field (a test checks it); the CLI's options override these per run.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class IngestSettings(BaseSettings):
    """Sizes of the units of work, and the limit on record times."""

    model_config = SettingsConfigDict(env_prefix="AGENTLEDGER_", extra="ignore", frozen=True)

    batch_bytes: int = Field(
        64 * MB, gt=0, description="Bytes of log read per write transaction (one write window): larger batches "
        "write faster, smaller ones keep each window, and so a reader's wait, short."
    )
    parallel_min_bytes: int = Field(
        16 * MB, ge=0, description="Below this much to read in a run, worker processes cost more to start "
        "than they save, and files are parsed in-process."
    )
    max_workers: int = Field(
        4, ge=1, description="Worker processes at most (never more than the machine's cores)."
    )
    chunk_bytes: int = Field(
        4 * MB, gt=0, description="Bytes of log per unit of work handed to a worker: fewer, larger hand-offs."
    )
    read_block_bytes: int = Field(
        32 * MB, gt=0, description="The most read from one line-oriented file at a time: memory holds one "
        "block, so a 1 GB transcript costs what a 32 MB one does (a line longer than this is read whole)."
    )
    future_tolerance_hours: float = Field(
        24.0, ge=0, description="Records dated later than now plus this are quarantined: a clock a day "
        "off is tolerated, a line dated 2100 is corrupt or forged and would drag every report's period."
    )


@lru_cache(maxsize=1)
def settings() -> IngestSettings:
    """The settings from the environment, read once per process."""
    return IngestSettings()
