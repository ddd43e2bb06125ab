"""Bad input through the CLI: one clear line naming the file or key, a non-zero exit, no
traceback — for `inspect`, `train` and `predict` alike."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import tifffile

from scivit.cli import main


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def write_stack(path, frames):
    with h5py.File(path, "w") as handle:
        entry = handle.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        data = entry.create_group("data")
        data.attrs["NX_class"] = "NXdata"
        data.attrs["signal"] = "data"
        data.create_dataset("data", data=frames)
    return path


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, rng.poisson(20, (32, 32)).astype(np.uint16))
    nan = tmp_path / "nan.tif"
    tifffile.imwrite(nan, np.full((32, 32), np.nan, dtype=np.float32))
    inf = tmp_path / "inf.npy"
    np.save(inf, np.full((32, 32), np.inf, dtype=np.float32))
    constant = tmp_path / "constant.tif"
    tifffile.imwrite(constant, np.full((32, 32), 7, dtype=np.uint16))
    empty = tmp_path / "empty.edf"
    empty.write_bytes(b"")
    stack = write_stack(tmp_path / "stack.h5", rng.poisson(5, (3, 32, 32)).astype(np.int32))
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(stack.read_bytes()[: stack.stat().st_size // 2])
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([np.zeros((4, 4)), 1.0], dtype=object), allow_pickle=True)
    return {
        "good": good,
        "nan": nan,
        "inf": inf,
        "constant": constant,
        "empty": empty,
        "stack": stack,
        "truncated": truncated,
        "pickled": pickled,
        "missing": tmp_path / "missing.cbf",
    }


@pytest.mark.parametrize(
    "name, words",
    [
        ("missing", ["missing.cbf"]),
        ("empty", ["empty.edf"]),
        ("truncated", ["truncated.h5"]),
        ("nan", ["nan.tif", "finite"]),
        ("inf", ["inf.npy", "finite"]),
        ("pickled", ["pickled.npy", "pickle"]),
    ],
)
def test_inspect_bad_file_is_one_line(files, capsys, name, words):
    assert main(["inspect", str(files[name])]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("scivit: error:")
    assert all(word in lines[0] for word in words)


def test_inspect_missing_dataset_names_it(files, capsys):
    assert main(["inspect", str(files["stack"]), "--dataset", "/entry/nothing"]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and "/entry/nothing" in lines[0]


def test_inspect_constant_image_warns_but_succeeds(files, capsys):
    assert main(["inspect", str(files["constant"])]) == 0
    captured = capsys.readouterr()
    assert "constant" in captured.err.lower() and "constant.tif" in captured.err
    assert "nan" not in captured.out.lower().replace("n_frames", "")


def test_inspect_mixed_inputs_reports_each_and_exits_partial(files, capsys):
    assert main(["inspect", str(files["good"]), str(files["missing"])]) == 1
    captured = capsys.readouterr()
    assert "good.tif" in captured.out and "missing.cbf" in captured.err


def test_debug_flag_raises_instead_of_printing_one_line(files):
    from scivit.errors import DataError

    with pytest.raises(DataError, match="missing.cbf"):
        main(["--debug", "train", "scatter-resnet34", f"data.manifest={files['missing']}"])


def write_manifest(path, header, rows):
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.mark.parametrize(
    "header, row, words",
    [
        ("path,labels", "good.tif,Ring;Rign", ["line 2", "Rign", "did you mean 'Ring'"]),
        ("file,labels", "good.tif,Ring", ["path"]),
        ("path,tags", "good.tif,Ring", ["labels"]),
    ],
)
def test_train_bad_manifest_is_one_line(files, tmp_path, capsys, header, row, words):
    manifest = write_manifest(tmp_path / "m.csv", header, [row])
    code = main(
        [
            "train",
            "scatter-resnet34",
            f"data.manifest={manifest}",
            f"train.out_dir={tmp_path / 'runs'}",
        ]
    )
    assert code == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and "m.csv" in lines[0]
    assert all(word in lines[0] for word in words), lines[0]


def test_train_mask_of_wrong_shape_is_one_line(files, tmp_path, capsys):
    mask = tmp_path / "mask.npy"
    np.save(mask, np.zeros((8, 8), dtype=bool))
    rows = [f"good.tif,{tag}" for tag in ("Ring", "Halo")] * 6
    manifest = write_manifest(tmp_path / "m.csv", "path,labels", rows)
    code = main(
        [
            "train",
            "scatter-resnet34",
            f"data.manifest={manifest}",
            "data.num_workers=0",
            "data.cache=false",
            "data.image_size=32",
            f"data.preprocess=[{{name: fix_dead_pixels, mask: {mask}}}]",
            "data.in_chans=1",
            "model.in_chans=1",
            f"train.out_dir={tmp_path / 'runs'}",
        ]
    )
    assert code == 2
    lines = [line for line in error_lines(capsys) if "warning" not in line]
    assert len(lines) == 1 and "mask.npy" in lines[0] and "(8, 8)" in lines[0], lines


def test_inspect_pickled_file_with_explicit_opt_in(tmp_path, capsys):
    path = tmp_path / "objects.npy"
    np.save(path, np.arange(64, dtype=float).reshape(8, 8).astype(object), allow_pickle=True)
    assert main(["inspect", str(path)]) == 2
    assert "pickle" in capsys.readouterr().err
    assert main(["inspect", "--allow-pickle", str(path)]) == 0
    assert "max: 63" in capsys.readouterr().out


def test_output_folder_blocked_by_a_file_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    code = main(
        ["simulate", "scattering", "--out", str(blocker), "--n", "2", "--progress", "false"]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("scivit: error:") and str(blocker) in err[0]
