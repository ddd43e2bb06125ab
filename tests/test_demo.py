"""`scivit demo` end to end at a tiny scale: simulate at the asked frame size, train, evaluate
on the test split, write the report; a second call reuses the frames already simulated."""

from __future__ import annotations

import json

import h5py

from scivit.cli import main


def test_demo_simulates_trains_evaluates_and_reuses_its_frames(tmp_path, capsys):
    out = tmp_path / "demo"
    tiny = [
        "data.image_size=32",
        "data.batch_size=16",
        "data.num_workers=0",
        f"data.cache_dir={tmp_path / 'cache'}",
        "train.max_epochs=1",
        "train.progress_bar=false",
    ]
    command = ["demo", "--out", str(out), "--n", "40", "--size", "48", "--workers", "1", *tiny]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "test macro-F1" in printed and "report:" in printed
    with h5py.File(next((out / "data").glob("*.h5"))) as handle:
        assert handle["entry/data/data"].shape[-2:] == (48, 48)
    metrics = json.loads((out / "evaluation" / "metrics.json").read_text())
    assert metrics["n_frames"] > 0 and 0.0 <= metrics["f1_macro"] <= 1.0
    assert (out / "evaluation" / "report.html").is_file()
    assert main(command) == 0
    assert "using the frames already in" in capsys.readouterr().out
