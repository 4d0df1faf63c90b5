"""Checking and building 200 survey definitions, against only parsing their YAML.

The definitions are the shipped ones copied under new ids (illustrative load,
not real surveys). The baseline reads the same files with ruamel.yaml's fast
safe loader and does nothing else, so the ratio is the cost of our checks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.surveys.loader import load_definitions
from app.surveys.services import SURVEYS_DIR


def make_definitions(folder: Path, count: int) -> list[Path]:
    sources = [p for p in SURVEYS_DIR.glob("*.yaml") if p.stem != "core-demographics"]
    paths = []
    for index in range(count):
        template = sources[index % len(sources)]
        new_id = f"{template.stem}-{index:03d}"
        text = template.read_text().replace(f"id: {template.stem}", f"id: {new_id}", 1)
        path = folder / f"{new_id}.yaml"
        path.write_text(text)
        paths.append(path)
    (folder / "core-demographics.yaml").write_text(
        (SURVEYS_DIR / "core-demographics.yaml").read_text())
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        paths = make_definitions(folder, args.count)
        ours, baseline = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            yaml = YAML(typ="safe")
            for path in paths:
                yaml.load(path.read_text())
            baseline.append(time.perf_counter() - started)

            started = time.perf_counter()
            result = load_definitions([folder])
            ours.append(time.perf_counter() - started)
            assert not result.problems, result.problems[:3]
            assert len(result.definitions) == args.count + 1
    ours_median, base_median = statistics.median(ours), statistics.median(baseline)
    print(f"check+build {args.count} definitions: {ours_median:.2f} s "
          f"({1000 * ours_median / args.count:.1f} ms each)   "
          f"baseline (YAML parse only): {base_median:.2f} s   "
          f"ratio {ours_median / base_median:.1f}")


if __name__ == "__main__":
    main()
