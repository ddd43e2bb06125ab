"""manifest_from_class_folders on DeepLense-style trees (root/<class>/*.npy) written here."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from scivit.cli import main
from scivit.data.class_folders import canonical_class, manifest_from_class_folders
from scivit.data.dataset import read_sample
from scivit.data.manifest import load_manifest
from scivit.errors import DataError, ReadError

CLASSES = ["no_substructure", "cdm", "axion"]
PICKLE_HINT = r"opt in \(allow_pickle in Python, --allow-pickle on the command line\)"


def _rows(csv_path: Path) -> list[dict[str, str]]:
    with open(csv_path, newline="") as handle:
        return list(csv.DictReader(handle))


def _deeplense_tree(root: Path, per_class: int = 3, size: int = 40) -> Path:
    """no_sub and cdm hold plain arrays; axion holds pickled [image, mass] object arrays."""
    rng = np.random.default_rng(0)
    for folder in ("no_sub", "cdm", "axion"):
        (root / folder).mkdir(parents=True)
        for index in range(per_class):
            image = rng.normal(size=(size, size))
            path = root / folder / f"{folder}_sim_{index}.npy"
            if folder == "axion":
                mass = 10.0 ** (-24 + index)
                np.save(path, np.array([image, mass], dtype=object), allow_pickle=True)
            else:
                np.save(path, image)
    return root


def test_aliases():
    assert [canonical_class(name) for name in ("no_sub", "NO", "sphere", "vort")] == [
        "no_substructure",
        "no_substructure",
        "cdm",
        "axion",
    ]
    assert canonical_class("lensed_quasar") == "lensed_quasar"


def test_plain_folders_make_a_loadable_manifest(tmp_path):
    root = _deeplense_tree(tmp_path / "Model_I")
    out = tmp_path / "meta" / "manifest.csv"
    index = manifest_from_class_folders(root, out, classes=["no_sub", "cdm"])
    assert (index.out_csv, index.rows, index.failures) == (out, 6, [])
    rows = _rows(out)
    assert len(rows) == 6
    assert rows[0]["path"] == "../Model_I/no_sub/no_sub_sim_0.npy"
    assert [row["labels"] for row in rows] == ["no_substructure"] * 3 + ["cdm"] * 3
    assert rows[4]["group"] == "cdm_sim_1"
    assert {(row["beam_center_x"], row["beam_center_y"]) for row in rows} == {("19.5", "19.5")}
    assert "axion_mass" not in rows[0]
    manifest = load_manifest(out, ["no_substructure", "cdm"], task="multiclass")
    np.testing.assert_array_equal(manifest.targets.argmax(axis=1), [0, 0, 0, 1, 1, 1])
    assert manifest.beam_centers[0] == (19.5, 19.5)
    sample = read_sample(manifest, 3)
    expected = np.load(root / "cdm" / "cdm_sim_0.npy").astype(np.float32)
    np.testing.assert_array_equal(sample["image"][0], expected)


def test_canonical_names_select_folders(tmp_path):
    root = _deeplense_tree(tmp_path)
    out = manifest_from_class_folders(root, tmp_path / "m.csv", classes=["no_substructure"]).out_csv
    assert {row["labels"] for row in _rows(out)} == {"no_substructure"}


def test_pickled_axion_files_need_opt_in(tmp_path):
    root = _deeplense_tree(tmp_path / "data")
    with pytest.raises(DataError, match=rf"axion_sim_0\.npy: holds pickled data.*{PICKLE_HINT}"):
        manifest_from_class_folders(root, tmp_path / "m.csv")
    assert not (tmp_path / "m.csv").exists()
    out = manifest_from_class_folders(root, tmp_path / "m.csv", allow_pickle=True).out_csv
    rows = _rows(out)
    assert [row["labels"] for row in rows[:3]] == ["axion"] * 3
    assert [float(row["axion_mass"]) for row in rows[:3]] == [1e-24, 1e-23, 1e-22]
    assert rows[3]["axion_mass"] == ""
    manifest = load_manifest(out, CLASSES, task="multiclass")
    assert manifest.targets.sum(axis=0).tolist() == [3, 3, 3]
    with pytest.raises(ReadError, match=PICKLE_HINT):
        read_sample(manifest, 0)


def test_stacks_get_one_row_per_frame(tmp_path):
    (tmp_path / "vortex").mkdir()
    np.save(tmp_path / "vortex" / "stack.npy", np.zeros((3, 32, 48)))
    rows = _rows(manifest_from_class_folders(tmp_path, tmp_path / "m.csv").out_csv)
    assert [(row["frame"], row["labels"]) for row in rows] == [(str(i), "axion") for i in range(3)]
    assert (rows[0]["beam_center_x"], rows[0]["beam_center_y"]) == ("23.5", "15.5")


def test_missing_class_folder_lists_present_ones(tmp_path):
    root = _deeplense_tree(tmp_path / "data")
    with pytest.raises(
        DataError, match=r"no class folder 'vort'; folders present: axion, cdm, no_sub"
    ):
        manifest_from_class_folders(root, tmp_path / "m.csv", classes=["cdm", "vort"])


@pytest.mark.parametrize("make", ["nothing", "empty_folder", "other_suffix"])
def test_empty_root(tmp_path, make):
    root = tmp_path / "root"
    root.mkdir()
    if make == "empty_folder":
        (root / "cdm").mkdir()
    elif make == "other_suffix":
        (root / "cdm").mkdir()
        (root / "cdm" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"root: no class folders holding \.npy files"):
        manifest_from_class_folders(root, tmp_path / "m.csv")


def test_requested_folder_without_files_and_missing_root(tmp_path):
    (tmp_path / "cdm").mkdir()
    with pytest.raises(DataError, match=r"cdm: class folder holds no \.npy files"):
        manifest_from_class_folders(tmp_path, tmp_path / "m.csv", classes=["cdm"])
    with pytest.raises(DataError, match=r"nowhere: class-folder root not found"):
        manifest_from_class_folders(tmp_path / "nowhere", tmp_path / "m.csv")


def test_unreadable_file_is_named(tmp_path):
    (tmp_path / "cdm").mkdir()
    (tmp_path / "cdm" / "cut.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match=r"cut\.npy"):
        manifest_from_class_folders(tmp_path, tmp_path / "m.csv")


def test_skip_leaves_out_unreadable_files_and_lists_them(tmp_path):
    root = _deeplense_tree(tmp_path / "data")
    (root / "cdm" / "cut.npy").write_bytes(b"\x93NUMPY garbage")
    index = manifest_from_class_folders(root, tmp_path / "m.csv", on_error="skip")
    left_out = sorted(path.name for path, _ in index.failures)
    assert left_out == ["axion_sim_0.npy", "axion_sim_1.npy", "axion_sim_2.npy", "cut.npy"]
    reasons = dict((path.name, reason) for path, reason in index.failures)
    assert "cut.npy" in reasons["cut.npy"]
    assert re.search(PICKLE_HINT, reasons["axion_sim_1.npy"])
    rows = _rows(index.out_csv)
    assert index.rows == len(rows) == 6
    assert {row["labels"] for row in rows} == {"no_substructure", "cdm"}


def test_skip_with_no_readable_file_fails(tmp_path):
    (tmp_path / "cdm").mkdir()
    (tmp_path / "cdm" / "cut.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match=r"none of its 1 files can be read; .*cut\.npy"):
        manifest_from_class_folders(tmp_path, tmp_path / "m.csv", on_error="skip")
    assert not (tmp_path / "m.csv").exists()


def test_cli_reports_each_file_left_out(tmp_path, capsys):
    root = _deeplense_tree(tmp_path / "data")
    out = tmp_path / "m.csv"
    assert main(["manifest", str(root), "--out", str(out)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "scivit:" in line]
    assert len(errors) == 1 and "axion_sim_0.npy" in errors[0]
    assert not out.exists()
    assert main(["manifest", str(root), "--out", str(out), "--on-error", "skip"]) == 1
    captured = capsys.readouterr()
    assert "(6 frames)" in captured.out
    failed = [line for line in captured.err.splitlines() if line.startswith("scivit: failed:")]
    assert len(failed) == 3 and all("axion_sim_" in line for line in failed)
    assert "3 file(s) left out" in captured.err
    assert len(_rows(out)) == 6


def test_custom_group_and_suffixes(tmp_path):
    (tmp_path / "no").mkdir()
    for name in ("lens1_a.NPY", "lens1_b.npy", "lens2_a.npz"):
        path = tmp_path / "no" / name
        with open(path, "wb") as handle:
            if name.endswith("npz"):
                np.savez(handle, image=np.ones((32, 32)))
            else:
                np.save(handle, np.ones((32, 32)))
    out = manifest_from_class_folders(
        tmp_path,
        tmp_path / "m.csv",
        suffixes=(".npy", ".npz"),
        group=lambda path: path.stem.split("_")[0],
    ).out_csv
    assert [(Path(row["path"]).name, row["group"]) for row in _rows(out)] == [
        ("lens1_a.NPY", "lens1"),
        ("lens1_b.npy", "lens1"),
        ("lens2_a.npz", "lens2"),
    ]
