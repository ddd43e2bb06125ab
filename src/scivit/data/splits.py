"""Train/val/test splits that keep groups whole and label proportions even.

Splits are made by iterative stratification (Sechidis, Tsoumakas & Vlahavas, "On the
Stratification of Multi-Label Data", ECML PKDD 2011): the rarest label is placed first, each
example going to the set that still wants the most of that label. Groups (all frames of one
sample, scan or patient) are the units that are placed, so a group never spans two sets.
When every group is a single frame, the `iterative-stratification` package's implementation
is used as is; with multi-frame groups, the same algorithm runs with each group's label counts
and frame count as weights. Rows with an explicit split keep it, and their whole group follows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from iterstrat.ml_stratifiers import IterativeStratification

from scivit.errors import DataError

SPLIT_NAMES = ("train", "val", "test")


def split_indices(
    targets: np.ndarray,
    groups: Sequence[str],
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    splits: Sequence[str | None] | None = None,
) -> dict[str, np.ndarray]:
    """Split rows into "train", "val" and "test" sets.

    Args:
        targets: (N, K) 0/1 label matrix.
        groups: group name of each row; rows of one group always land in the same set.
        fractions: wanted share of rows in train, val and test (positive, summing to 1).
        seed: the same seed and inputs always give the same split.
        splits: optional explicit set name (or None) per row, e.g. a manifest's `split` column.

    Returns:
        Sorted int64 row indices for each set name.

    Raises:
        DataError: bad fractions, a group with two explicit sets, or a set that would be empty.
    """
    targets = np.asarray(targets)
    shares = _check_fractions(fractions)
    if len(groups) != len(targets):
        raise DataError(f"split: {len(groups)} groups for {len(targets)} rows")
    names, group_of_row = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    fold_of_group = _explicit_folds(names, group_of_row, splits)
    free = np.flatnonzero(fold_of_group < 0)
    if free.size:
        counts = _group_label_counts(targets, group_of_row, len(names))[free]
        sizes = np.bincount(group_of_row, minlength=len(names))[free]
        fold_of_group[free] = _stratify(counts, sizes, shares, np.random.default_rng(seed))
    fold_of_row = fold_of_group[group_of_row]
    result = {name: np.flatnonzero(fold_of_row == fold) for fold, name in enumerate(SPLIT_NAMES)}
    for name, rows in result.items():
        if rows.size == 0:
            raise DataError(
                f"split: set '{name}' would be empty ({len(names)} groups, fractions "
                f"{[float(share) for share in shares]}); add data or change the fractions"
            )
    return {name: rows.astype(np.int64) for name, rows in result.items()}


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    shares = np.asarray(fractions, dtype=float)
    if shares.shape != (3,) or np.any(shares <= 0) or not np.isclose(shares.sum(), 1.0):
        raise DataError(
            f"split: fractions must be three positive numbers summing to 1, got {list(fractions)}"
        )
    return shares


def _explicit_folds(
    names: np.ndarray, group_of_row: np.ndarray, splits: Sequence[str | None] | None
) -> np.ndarray:
    """Fold index per group from explicit row splits; -1 where the group has none."""
    folds = np.full(len(names), -1, dtype=np.int64)
    if splits is None:
        return folds
    if len(splits) != len(group_of_row):
        raise DataError(f"split: {len(splits)} split values for {len(group_of_row)} rows")
    for row, split in enumerate(splits):
        if split is None:
            continue
        if split not in SPLIT_NAMES:
            raise DataError(f"split: row {row} has unknown split '{split}'")
        group, fold = group_of_row[row], SPLIT_NAMES.index(split)
        if folds[group] not in (-1, fold):
            raise DataError(
                f"split: group '{names[group]}' has rows in both "
                f"'{SPLIT_NAMES[folds[group]]}' and '{split}'"
            )
        folds[group] = fold
    return folds


def _group_label_counts(targets: np.ndarray, group_of_row: np.ndarray, n_groups: int) -> np.ndarray:
    counts = np.zeros((n_groups, targets.shape[1]), dtype=np.int64)
    np.add.at(counts, group_of_row, (targets > 0).astype(np.int64))
    return counts


def _stratify(
    counts: np.ndarray, sizes: np.ndarray, shares: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Fold per group, visiting groups in a seed-dependent order."""
    order = rng.permutation(len(sizes))
    if np.all(sizes == 1):
        folds = IterativeStratification(labels=counts[order] > 0, r=shares, random_state=rng)
    else:
        folds = _weighted_stratification(counts[order], sizes[order], shares, rng)
    result = np.empty_like(folds)
    result[order] = folds
    return result


def _weighted_stratification(
    counts: np.ndarray, sizes: np.ndarray, shares: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Iterative stratification where each unit carries label counts and a frame count."""
    wanted_labels = np.outer(shares, counts.sum(axis=0)).astype(float)
    wanted_sizes = shares * sizes.sum()
    folds = np.zeros(len(sizes), dtype=np.int64)
    pending = np.ones(len(sizes), dtype=bool)
    while pending.any():
        remaining = counts[pending].sum(axis=0)
        if remaining.sum() == 0:
            for unit in np.flatnonzero(pending):
                folds[unit] = _pick(wanted_sizes, wanted_sizes, rng)
                wanted_sizes[folds[unit]] -= sizes[unit]
            break
        rarest = np.flatnonzero(remaining == remaining[remaining > 0].min())
        label = rarest[rng.integers(len(rarest))]
        for unit in np.flatnonzero(pending & (counts[:, label] > 0)):
            folds[unit] = _pick(wanted_labels[:, label], wanted_sizes, rng)
            wanted_labels[folds[unit]] -= counts[unit]
            wanted_sizes[folds[unit]] -= sizes[unit]
            pending[unit] = False
    return folds


def _pick(primary: np.ndarray, secondary: np.ndarray, rng: np.random.Generator) -> int:
    """The fold wanting most by `primary`, ties broken by `secondary`, then at random."""
    best = np.flatnonzero(primary == primary.max())
    best = best[secondary[best] == secondary[best].max()]
    return int(best[rng.integers(len(best))])
