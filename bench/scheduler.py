#!/usr/bin/env python3
"""Benchmark: dynamic critical-path-first scheduling against wave-by-wave, on random DAGs.

Every DAG (20-150 nodes, Pareto durations, one of several densities) is scheduled at 2, 4 and
8 jobs by `orchestrator.engine.scheduler.simulate` and `simulate_waves`, and each makespan
is divided by `lower_bound` = max(critical path, work / jobs); 1.00 is optimal. With
--check, exits 1 when dynamic's overall mean ratio exceeds 1.05 (DESIGN section 7). The
numbers depend only on the seed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

JOBS = (2, 4, 8)
MIN_NODES, MAX_NODES = 20, 150
ALPHA = 1.5  # Pareto shape: mean 3x the minimum, infinite variance before the cap
CAP = 40.0  # longest step, in units of the shortest
DENSITIES = {"sparse": 0.7, "medium": 1.5, "dense": 3.0, "very dense": 6.0}  # mean deps/node
BUDGET = 1.05


@dataclass(slots=True)
class Sample:
    jobs: int
    density: str
    dynamic: float  # makespan / lower bound
    waves: float

    @property
    def saved(self) -> float:
        """The share of the wave-by-wave makespan that dynamic scheduling saves."""
        return 1.0 - self.dynamic / self.waves


def random_dag(rng: random.Random, mean_deps: float) -> tuple[list[str], dict, dict]:
    """Ids in plan order, their dependencies (on earlier ids only) and their durations."""
    count = rng.randint(MIN_NODES, MAX_NODES)
    order = [str(index + 1) for index in range(count)]
    deps: dict[str, list[str]] = {}
    for index, node in enumerate(order):
        # Binomial around the mean, so some nodes have no dependencies at any density.
        wanted = sum(rng.random() < mean_deps / 8 for _ in range(8))
        deps[node] = rng.sample(order[:index], min(index, wanted))
    durations = {node: min(CAP, rng.paretovariate(ALPHA)) for node in order}
    return order, deps, durations


def measure(dags: int, seed: int) -> list[Sample]:
    from orchestrator.engine.scheduler import lower_bound, simulate, simulate_waves

    rng = random.Random(seed)
    names = list(DENSITIES)
    samples = []
    for index in range(dags):
        density = names[index % len(names)]
        order, deps, durations = random_dag(rng, DENSITIES[density])
        for jobs in JOBS:
            bound = lower_bound(order, deps, durations, jobs)
            dynamic = simulate(order, deps, durations, jobs).makespan
            waves = simulate_waves(order, deps, durations, jobs).makespan
            samples.append(Sample(jobs, density, dynamic / bound, waves / bound))
    return samples


def _row(label: str, group: list[Sample]) -> str:
    dynamic = [s.dynamic for s in group]
    waves = [s.waves for s in group]
    saved = statistics.fmean(s.saved for s in group) * 100
    worse = sum(s.dynamic > s.waves * (1 + 1e-9) for s in group)
    return (f"{label:>10}{len(group):>11}{statistics.fmean(dynamic):>11.3f}{max(dynamic):>11.3f}"
            f"{statistics.fmean(waves):>11.3f}{max(waves):>11.3f}{saved:>10.1f}%{worse:>11}")


def report(samples: list[Sample], dags: int, seed: int, seconds: float) -> list[str]:
    columns = "".join(f"{name:>11}" for name in
                      ("schedules", "dyn mean", "dyn max", "waves mean", "waves max", "dyn saves",
                       "dyn worse"))
    lines = [
        f"scheduler: {dags} random DAGs of {MIN_NODES}-{MAX_NODES} nodes, seed {seed}; "
        f"durations Pareto(alpha {ALPHA}) capped at {CAP:g}x; jobs {', '.join(map(str, JOBS))}",
        "makespan / lower bound max(critical path, work/jobs); 1.000 is optimal",
        "dyn saves: mean share of the wave-by-wave makespan that dynamic scheduling saves; "
        "dyn worse: schedules where it was slower",
        "",
        f"{'jobs':>10}{columns}",
    ]
    for jobs in JOBS:
        lines.append(_row(str(jobs), [s for s in samples if s.jobs == jobs]))
    lines.append(_row("all", samples))
    lines += ["", "by density (all job counts):", f"{'density':>10}{columns}"]
    for density in DENSITIES:
        lines.append(_row(density, [s for s in samples if s.density == density]))
    dynamic = statistics.fmean(s.dynamic for s in samples)
    waves = statistics.fmean(s.waves for s in samples)
    lines += [
        "",
        f"overall mean ratio: dynamic {dynamic:.3f}, waves {waves:.3f} (budget: dynamic "
        f"within {BUDGET:.2f})",
        f"{len(samples)} schedules each way in {seconds:.1f} s",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dags", type=int, default=600, help="random DAGs (default 600)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 when dynamic's mean ratio is over {BUDGET}")
    args = parser.parse_args()
    if args.dags < 1:
        parser.error("--dags must be at least 1")
    start = time.perf_counter()
    samples = measure(args.dags, args.seed)
    seconds = time.perf_counter() - start
    print("\n".join(report(samples, args.dags, args.seed, seconds)))
    mean = statistics.fmean(s.dynamic for s in samples)
    if args.check and mean > BUDGET:
        print(f"OVER BUDGET: dynamic scheduling's mean ratio {mean:.3f} is over {BUDGET}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
