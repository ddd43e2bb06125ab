"""load_manifest: both label formats, optional columns, and every bad-input case."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from tiny_data import LABELS, write_csv, write_nexus

from scivit.data import load_manifest
from scivit.errors import DataError


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return write_nexus(tmp_path / "a.nxs", np.ones((3, 8, 8), dtype=np.int32))


def test_labels_column(make_dataset):
    path = make_dataset(n=12, shards=2, group_size=3)
    manifest = load_manifest(path, LABELS)
    assert len(manifest) == 12
    assert manifest.paths[0] == path.parent / "shard0.nxs"
    assert all(p.is_absolute() for p in manifest.paths)
    assert manifest.frames[:7] == [0, 1, 2, 3, 4, 5, 0]
    assert manifest.groups[:4] == ["sample0", "sample0", "sample0", "sample1"]
    assert manifest.beam_centers[0] == (16.0, 16.0)
    assert manifest.targets.dtype == np.float32
    assert manifest.targets.shape == (12, 3)
    assert manifest.label_names == LABELS
    assert manifest.splits == [None] * 12
    assert manifest.source == path.resolve()
    assert manifest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_label_columns_match_labels_column(tmp_path, image):
    names = ["ring", "halo"]
    listed = write_csv(
        tmp_path / "listed.csv",
        [
            {"path": "a.nxs", "frame": i, "labels": lab}
            for i, lab in enumerate(["ring;halo", "", "halo"])
        ],
    )
    columns = write_csv(
        tmp_path / "columns.csv",
        [
            {"path": "a.nxs", "frame": i, "ring": r, "halo": h}
            for i, (r, h) in enumerate([(1, 1), (0, 0), (0, 1)])
        ],
    )
    expected = np.array([[1, 1], [0, 0], [0, 1]], dtype=np.float32)
    np.testing.assert_array_equal(load_manifest(listed, names).targets, expected)
    np.testing.assert_array_equal(load_manifest(columns, names).targets, expected)


def test_defaults_without_optional_columns(tmp_path, image):
    single = write_nexus(tmp_path / "b.nxs", np.ones((1, 8, 8), dtype=np.int32))
    path = write_csv(tmp_path / "m.csv", [{"path": str(single), "labels": "x"}] * 2)
    manifest = load_manifest(path, ["x"])
    assert manifest.frames == [None, None]
    assert manifest.groups == ["0", "1"]
    assert manifest.beam_centers == [None, None]
    assert manifest.paths == [single, single]


def test_split_column_and_root(tmp_path, image):
    sub = tmp_path / "lists"
    sub.mkdir()
    rows = [
        {"path": "a.nxs", "frame": i, "labels": "x", "split": s}
        for i, s in enumerate(["train", "VAL", ""])
    ]
    manifest = load_manifest(write_csv(sub / "m.csv", rows), ["x"], root=tmp_path)
    assert manifest.splits == ["train", "val", None]
    assert manifest.paths[0] == image


def test_multiclass_is_one_hot(tmp_path, image):
    rows = [{"path": "a.nxs", "frame": i, "labels": lab} for i, lab in enumerate(["b", "a", "c"])]
    manifest = load_manifest(
        write_csv(tmp_path / "m.csv", rows), ["a", "b", "c"], task="multiclass"
    )
    np.testing.assert_array_equal(manifest.targets, np.eye(3, dtype=np.float32)[[1, 0, 2]])
    assert manifest.task == "multiclass"


def test_no_label_names_give_a_label_free_manifest(tmp_path, image):
    rows = [
        {
            "path": "a.nxs",
            "frame": 2,
            "labels": "any;name",
            "ring": "yes",
            "group": "",
            "split": "val",
        },
        {"path": "a.nxs", "frame": 0, "labels": "", "ring": "", "group": "g", "split": ""},
    ]
    path = write_csv(tmp_path / "m.csv", rows)
    manifest = load_manifest(path, [])
    assert manifest.label_names == [] and manifest.targets.shape == (2, 0)
    assert manifest.targets.dtype == np.float32
    assert manifest.paths == [image, image] and manifest.frames == [2, 0]
    assert manifest.groups == ["0", "g"] and manifest.splits == ["val", None]
    assert manifest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    bad = write_csv(tmp_path / "bad.csv", [{"path": "a.nxs", "frame": "x", "labels": "?"}])
    assert "'frame'" in _error(bad, labels=[])


def _error(path: Path, labels=("ring", "halo"), **kwargs) -> str:
    with pytest.raises(DataError) as info:
        load_manifest(path, list(labels), **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert str(path.name) in message
    return message


def test_missing_file(tmp_path):
    assert "not found" in _error(tmp_path / "absent.csv")


def test_empty_file(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("")
    assert "empty" in _error(path)


def test_header_without_rows(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("path,labels\n\n")
    assert "no rows" in _error(path)


def test_missing_path_column_suggests(tmp_path, image):
    message = _error(write_csv(tmp_path / "m.csv", [{"paths": "a.nxs", "labels": "ring"}]))
    assert "'path'" in message and "did you mean 'paths'" in message


def test_neither_labels_nor_label_columns(tmp_path, image):
    path = write_csv(tmp_path / "m.csv", [{"path": "a.nxs", "frame": 0, "ring": 1, "hallo": 0}])
    message = _error(path)
    assert "no 'labels' column" in message and "'halo'" in message and "'hallo'" in message


def test_unknown_label_suggests_closest(tmp_path, image):
    rows = [
        {"path": "a.nxs", "frame": 0, "labels": "ring"},
        {"path": "a.nxs", "frame": 1, "labels": "ring;hallo"},
    ]
    message = _error(write_csv(tmp_path / "m.csv", rows))
    assert "line 3" in message and "'labels'" in message
    assert "unknown label 'hallo'" in message and "did you mean 'halo'" in message


@pytest.mark.parametrize("value", ["2", "yes", "", "0.5"])
def test_non_binary_label_column(tmp_path, image, value):
    rows = [{"path": "a.nxs", "frame": 0, "ring": 1, "halo": value}]
    message = _error(write_csv(tmp_path / "m.csv", rows))
    assert "line 2" in message and "'halo'" in message and "not 0 or 1" in message


@pytest.mark.parametrize(("labels", "count"), [("", 0), ("ring;halo", 2)])
def test_multiclass_needs_exactly_one(tmp_path, image, labels, count):
    rows = [{"path": "a.nxs", "frame": 0, "labels": labels}]
    message = _error(write_csv(tmp_path / "m.csv", rows), task="multiclass")
    assert "line 2" in message and f"got {count}" in message


def test_multiclass_label_columns(tmp_path, image):
    rows = [{"path": "a.nxs", "frame": 0, "ring": 1, "halo": 1}]
    message = _error(write_csv(tmp_path / "m.csv", rows), task="multiclass")
    assert "'ring, halo'" in message and "got 2" in message


@pytest.mark.parametrize("frame", ["x", "-1", "1.5"])
def test_bad_frame(tmp_path, image, frame):
    rows = [{"path": "a.nxs", "frame": frame, "labels": "ring"}]
    message = _error(write_csv(tmp_path / "m.csv", rows))
    assert "line 2" in message and "'frame'" in message and f"'{frame}'" in message


def test_missing_image_file(tmp_path, image):
    rows = [
        {"path": "a.nxs", "frame": 0, "labels": "ring"},
        {"path": "gone.nxs", "frame": 0, "labels": ""},
    ]
    message = _error(write_csv(tmp_path / "m.csv", rows))
    assert "line 3" in message and "gone.nxs" in message and "not found" in message


def test_empty_path(tmp_path, image):
    rows = [{"path": "", "frame": 0, "labels": "ring"}]
    assert "empty path" in _error(write_csv(tmp_path / "m.csv", rows))


def test_beam_center_needs_both_columns(tmp_path, image):
    rows = [{"path": "a.nxs", "frame": 0, "labels": "ring", "beam_center_x": 3}]
    assert "'beam_center_x' is given without 'beam_center_y'" in _error(
        write_csv(tmp_path / "m.csv", rows)
    )


def test_bad_beam_center(tmp_path, image):
    rows = [
        {"path": "a.nxs", "frame": 0, "labels": "ring", "beam_center_x": 3, "beam_center_y": "nan"}
    ]
    message = _error(write_csv(tmp_path / "m.csv", rows))
    assert "'beam_center_y'" in message and "not a pixel position" in message


def test_unknown_split(tmp_path, image):
    rows = [{"path": "a.nxs", "frame": 0, "labels": "ring", "split": "tset"}]
    message = _error(write_csv(tmp_path / "m.csv", rows))
    assert "'split'" in message and "did you mean 'test'" in message


def test_row_with_extra_cells(tmp_path, image):
    path = tmp_path / "m.csv"
    path.write_text("path,labels\na.nxs,ring,halo\n")
    assert "line 2 has 3 cells but the header has 2" in _error(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(b"path,labels\n\xff\xfe,\x80\n")
    assert "not a readable CSV" in _error(path)


@pytest.mark.parametrize(
    ("labels", "task", "text"),
    [
        ([], "multiclass", "multiclass manifest needs label names"),
        (["a", "a"], "multilabel", "more than once"),
        (["a"], "binary", "task"),
    ],
)
def test_bad_vocabulary_or_task(tmp_path, image, labels, task, text):
    path = write_csv(tmp_path / "m.csv", [{"path": "a.nxs", "frame": 0, "labels": "a"}])
    assert text in _error(path, labels=labels, task=task)
