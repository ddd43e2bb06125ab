"""split_indices: whole groups, even label proportions, reproducible, explicit splits, errors."""

from __future__ import annotations

import numpy as np
import pytest
from iterstrat.ml_stratifiers import IterativeStratification

from scivit.data import split_indices
from scivit.errors import DataError

PREVALENCE = [0.5, 0.3, 0.15, 0.06]


def _data(n: int = 600, group_size: int = 1, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    n_groups = n // group_size
    group_flags = rng.random((n_groups, len(PREVALENCE))) < PREVALENCE
    frame_flags = rng.random((n, len(PREVALENCE))) < 0.7
    targets = (np.repeat(group_flags, group_size, axis=0) & frame_flags).astype(np.float32)
    groups = [f"g{i // group_size}" for i in range(n)]
    return targets, groups


def _set_of(result: dict[str, np.ndarray], n: int) -> np.ndarray:
    where = np.full(n, "", dtype=object)
    for name, rows in result.items():
        where[rows] = name
    return where


@pytest.mark.parametrize("group_size", [1, 4])
def test_partition_and_whole_groups(group_size):
    targets, groups = _data(group_size=group_size)
    result = split_indices(targets, groups)
    assert sorted(result) == ["test", "train", "val"]
    combined = np.concatenate(list(result.values()))
    np.testing.assert_array_equal(np.sort(combined), np.arange(len(targets)))
    for rows in result.values():
        assert rows.dtype == np.int64
        assert np.all(np.diff(rows) > 0)
    owners = {}
    for name, rows in result.items():
        for row in rows:
            assert owners.setdefault(groups[row], name) == name


@pytest.mark.parametrize("group_size", [1, 4])
def test_sizes_and_label_proportions(group_size):
    targets, groups = _data(group_size=group_size)
    result = split_indices(targets, groups, fractions=(0.6, 0.2, 0.2), seed=3)
    overall = targets.mean(axis=0)
    for name, share in zip(("train", "val", "test"), (0.6, 0.2, 0.2), strict=True):
        rows = result[name]
        assert abs(len(rows) / len(targets) - share) < 0.02
        np.testing.assert_allclose(targets[rows].mean(axis=0), overall, atol=0.025)


def test_every_label_expected_in_a_set_reaches_it():
    targets, groups = _data(n=200, group_size=2)
    result = split_indices(targets, groups)
    common = targets.sum(axis=0) * 0.1 >= 1
    assert common.sum() == 3
    for rows in result.values():
        assert np.all(targets[rows][:, common].sum(axis=0) > 0)


def test_singletons_follow_the_package():
    """With one frame per group the split is iterstrat's iterative stratification itself."""
    targets, groups = _data(n=300)
    seed = 5
    rng = np.random.default_rng(seed)
    names = np.unique(groups)
    order = rng.permutation(len(names))
    row_of_name = {name: groups.index(name) for name in names}
    labels = targets[[row_of_name[name] for name in names]][order] > 0
    folds = np.empty(len(names), dtype=int)
    folds[order] = IterativeStratification(
        labels=labels, r=np.array([0.8, 0.1, 0.1]), random_state=rng
    )
    result = split_indices(targets, groups, seed=seed)
    for fold, name in enumerate(("train", "val", "test")):
        expected = sorted(row_of_name[group] for group in names[folds == fold])
        np.testing.assert_array_equal(result[name], expected)


@pytest.mark.parametrize("group_size", [1, 3])
def test_reproducible_and_seed_dependent(group_size):
    targets, groups = _data(n=300, group_size=group_size)
    first = split_indices(targets, groups, seed=1)
    again = split_indices(targets, groups, seed=1)
    other = split_indices(targets, groups, seed=2)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert any(not np.array_equal(first[name], other[name]) for name in first)


def test_independent_of_group_order():
    targets, groups = _data(n=120, group_size=3)
    renamed = [f"z{name}" for name in groups]
    a = split_indices(targets, groups)
    b = split_indices(targets, renamed)
    assert {k: len(v) for k, v in a.items()} == {k: len(v) for k, v in b.items()}


def test_multiclass_one_hot_is_stratified():
    classes = np.repeat(np.arange(4), [100, 60, 30, 10])
    targets = np.eye(4, dtype=np.float32)[classes]
    result = split_indices(targets, [str(i) for i in range(200)])
    np.testing.assert_array_equal(targets[result["val"]].sum(axis=0), [10, 6, 3, 1])
    np.testing.assert_array_equal(targets[result["test"]].sum(axis=0), [10, 6, 3, 1])


def test_explicit_splits_are_kept_and_groups_follow():
    targets, groups = _data(n=80, group_size=2)
    explicit: list[str | None] = [None] * 80
    explicit[0] = "test"
    explicit[10] = "val"
    explicit[21] = "train"
    result = split_indices(targets, groups, splits=explicit)
    where = _set_of(result, 80)
    assert list(where[[0, 1, 10, 11, 20, 21]]) == ["test", "test", "val", "val", "train", "train"]


def test_fully_explicit_split():
    targets, groups = _data(n=6)
    explicit = ["train", "train", "val", "test", "train", "val"]
    result = split_indices(targets, groups, splits=explicit)
    assert list(_set_of(result, 6)) == explicit


def test_group_in_two_explicit_sets():
    targets, groups = _data(n=8, group_size=2)
    explicit = ["train", "val", None, None, None, None, None, None]
    with pytest.raises(DataError, match="group 'g0' has rows in both 'train' and 'val'"):
        split_indices(targets, groups, splits=explicit)


def test_empty_set_is_an_error():
    targets, groups = _data(n=4)
    with pytest.raises(DataError, match="set '(val|test)' would be empty"):
        split_indices(targets, groups)
    explicit = ["train", "train", "val", "val"]
    with pytest.raises(DataError, match="set 'test' would be empty"):
        split_indices(targets, groups, splits=explicit)


@pytest.mark.parametrize(
    "fractions", [(0.8, 0.2), (0.9, 0.2, 0.1), (1.0, 0.0, 0.0), (0.9, -0.1, 0.2)]
)
def test_bad_fractions(fractions):
    targets, groups = _data(n=20)
    with pytest.raises(DataError, match="fractions must be three positive numbers"):
        split_indices(targets, groups, fractions=fractions)


def test_mismatched_lengths():
    targets, groups = _data(n=20)
    with pytest.raises(DataError, match="19 groups for 20 rows"):
        split_indices(targets, groups[:-1])
    with pytest.raises(DataError, match="3 split values for 20 rows"):
        split_indices(targets, groups, splits=["train"] * 3)
    with pytest.raises(DataError, match="unknown split 'dev'"):
        split_indices(targets, groups, splits=["dev"] * 20)
