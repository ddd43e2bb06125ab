"""What makes a run repeatable: package versions, git revision, data hash, seed, time."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = (
    "scivit",
    "torch",
    "torchvision",
    "timm",
    "lightning",
    "peft",
    "torchmetrics",
    "numpy",
    "h5py",
    "fabio",
    "pyFAI",
    "sasmodels",
)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape a run's numbers."""
    versions: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_revision(path: Path | None = None) -> str | None:
    """The git commit of the source tree holding `path` (default: this package), if any."""
    where = path or Path(__file__).resolve().parent
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def provenance(seed: int, data_sha256: str | None) -> dict[str, Any]:
    """The provenance block written beside every checkpoint."""
    return {
        "seed": seed,
        "data_sha256": data_sha256,
        "git_revision": git_revision(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "host": platform.node(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
