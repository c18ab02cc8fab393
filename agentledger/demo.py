"""The demo ledger: the shipped sample (or a generated org) ingested, its org directory loaded, and
its git repositories scanned, so that the demo shows what the spend bought.

It loads through agentledger.pipeline like `agentledger ingest` and `agentledger git scan` do;
`agentledger demo` and the dashboard tests build their ledgers with it. The shipped sample carries
no repositories (binary objects in the source tree, a repository inside the repository): the
generator that wrote its transcripts builds them again, the same shas they print, beside the ledger.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from agentledger.pipeline import ingest_and_refresh, scan_git
from ingest.git.scan import read_path_map
from ingest.org import load_org, read_org_csv
from ingest.runner import IngestOptions
from store.db import private_folder, writer


class DemoError(RuntimeError):
    """The demo data could not be found or made; the message is one line for the user."""


@dataclass(frozen=True)
class DemoOptions:
    generate: bool = False
    users: int = 25
    days: int = 30
    seed: int = 7


def demo_dir() -> Path:
    """Where the demo ledger and any generated org live."""
    return Path(platformdirs.user_data_dir("agentledger")) / "demo"


def default_demo_db(options: DemoOptions) -> Path:
    """One demo file per kind of demo, so a generated org never mixes with the shipped sample."""
    if options.generate:
        return demo_dir() / f"generated-{options.users}u-{options.days}d-s{options.seed}.duckdb"
    return demo_dir() / "sample.duckdb"


def shipped_sample() -> tuple[Path, Path]:
    """(transcripts root, org.csv) of the committed sample; the root holds one folder per user."""
    root = Path(str(resources.files("sample_data")))
    transcripts, org = root / "transcripts", root / "org.csv"
    if not transcripts.is_dir():
        raise DemoError(f"the shipped sample is missing ({transcripts}); try `agentledger demo --generate`")
    return transcripts, org


def sample_repositories(target: Path) -> Path:
    """The shipped sample's git repositories (and their mapping file), built once into `target`."""
    if not (target / "paths.csv").exists():
        # Imported here: the generator is only needed to build the repositories, once.
        from sample_data.generator import regenerate_committed

        with tempfile.TemporaryDirectory() as scratch:
            regenerate_committed(Path(scratch), git_dir=target)
    return target


def generated_sample(options: DemoOptions, out: Path | None = None) -> tuple[Path, Path]:
    """Generate (once per seed and size) a synthetic org; returns (transcripts root, org.csv)."""
    out = out or demo_dir() / f"org-{options.users}u-{options.days}d-s{options.seed}"
    org = out / "org.csv"
    if not org.exists() or not (out / "git" / "paths.csv").exists():    # (orgs generated before repositories were)
        # Imported here: the generator's profiles and content tables are only needed for --generate.
        from sample_data.generator import generate

        generate(out, users=options.users, days=options.days, seed=options.seed)
    return out, org


def build_demo_db(db: Path, options: DemoOptions = DemoOptions(), source_dir: Path | None = None) -> str:
    """Ingest the sample into `db` (idempotent), load its org and scan its repositories; returns a
    one-line summary."""
    if options.generate:
        transcripts, org = generated_sample(options, source_dir)
        git_dir = transcripts / "git"
    else:
        transcripts, org = shipped_sample()
        git_dir = sample_repositories(private_folder(db.parent) / f"{db.stem}-git")
    with writer(db) as con:
        summary = ingest_and_refresh(
            con, IngestOptions(paths=[transcripts], user_from_dir=True, progress=None), command="agentledger demo"
        ).ingest
        people = load_org(con, read_org_csv(org)) if org.exists() else 0
        scanned = scan_git(con, sorted(git_dir.glob("*.git")), read_path_map(git_dir / "paths.csv"),
                           command="agentledger demo (git scan)")
    links = scanned.derived.links if scanned.derived else 0
    return (f"demo ledger {db}: {summary.requests_new} new requests from {summary.files_seen} files, {people} people "
            f"in the org, {len(scanned.repos)} repositories, {links} commits linked to sessions")
