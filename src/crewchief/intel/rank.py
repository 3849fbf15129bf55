"""Which symbols matter: PageRank over the reference graph, personalised to the focus paths.

Files are the graph's nodes; file A has an edge to file B for every name A uses that B defines,
weighted by how often A uses it and how specific the name is (a name defined in many files, or a
private one, says little; a long identifier says a lot). PageRank runs by power iteration on a
scipy sparse matrix with teleports to the focus files, and each file's rank then flows along its
edges to the definitions the names resolve to, which ranks symbols. Symbols in the focus come
first, then the rest by score.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from crewchief.intel.records import Definition
from crewchief.intel.snapshot import Snapshot
from crewchief.intel.sources import under

DAMPING = 0.85
TOLERANCE = 1e-9
MAX_ITERATIONS = 100
#: A name defined in more files than this is too ambiguous to be an edge at all.
MAX_DEFINERS = 40
_COMMON_DEFINERS = 5
_SPECIFIC_LENGTH = 8
_SPECIFIC = re.compile(r"[a-z0-9]_[a-z0-9]|[a-z0-9][A-Z]")


@dataclass(frozen=True, slots=True)
class RankedSymbol:
    """A definition and its score; ``in_focus`` when its file lies under a focus path."""

    definition: Definition
    score: float
    in_focus: bool


@dataclass(frozen=True, slots=True)
class Ranking:
    """Files by PageRank (descending) and symbols in map order (focus first, then by score)."""

    files: tuple[tuple[str, float], ...]
    symbols: tuple[RankedSymbol, ...]


@dataclass(frozen=True, slots=True)
class _Graph:
    paths: list[str]
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    names: list[str]


def rank(snapshot: Snapshot, focus: Sequence[str] = ()) -> Ranking:
    """Rank a snapshot's files and symbols, personalised to ``focus`` (files or directories).

    With no focus, or a focus matching no indexed file, the teleport is uniform.
    """
    graph = _build_graph(snapshot)
    n = len(graph.paths)
    if n == 0:
        return Ranking((), ())
    focused = np.array([under(p, focus) for p in graph.paths], dtype=bool)
    teleport = focused / focused.sum() if focused.any() else np.full(n, 1.0 / n)
    ranks, flow = _pagerank(graph, teleport)
    scores = _symbol_scores(snapshot, graph, flow)
    file_rank = dict(zip(graph.paths, ranks.tolist(), strict=True))
    symbols = [
        RankedSymbol(d, scores.get((d.path, d.name), 0.0), bool(focused[i]))
        for i, path in enumerate(graph.paths)
        for d in snapshot.definitions(path=path)
    ]
    symbols.sort(
        key=lambda s: (
            not s.in_focus,
            -s.score,
            -file_rank[s.definition.path],
            s.definition.path,
            s.definition.line_start,
        )
    )
    files = tuple(sorted(file_rank.items(), key=lambda item: (-item[1], item[0])))
    return Ranking(files, tuple(symbols))


def _name_weight(name: str, definers: int) -> float:
    weight = 1.0
    if definers > _COMMON_DEFINERS:
        weight *= 0.1
    if name.startswith("_"):
        weight *= 0.1
    if len(name) >= _SPECIFIC_LENGTH and _SPECIFIC.search(name):
        weight *= 10.0
    return weight


def _build_graph(snapshot: Snapshot) -> _Graph:
    paths = snapshot.paths
    index = {p: i for i, p in enumerate(paths)}
    definers: dict[str, set[int]] = defaultdict(set)
    for definition in snapshot.definitions():
        definers[definition.name].add(index[definition.path])
    src: list[int] = []
    dst: list[int] = []
    weight: list[float] = []
    names: list[str] = []
    for i, path in enumerate(paths):
        for name, count in snapshot.name_counts(path).items():
            targets = definers.get(name)
            if not targets or len(targets) > MAX_DEFINERS:
                continue
            w = _name_weight(name, len(targets)) * math.sqrt(count)
            for j in targets:
                if j != i:
                    src.append(i)
                    dst.append(j)
                    weight.append(w)
                    names.append(name)
    return _Graph(
        paths,
        np.array(src, dtype=np.int64),
        np.array(dst, dtype=np.int64),
        np.array(weight, dtype=np.float64),
        names,
    )


def _pagerank(graph: _Graph, teleport: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Personalised PageRank by power iteration; also each edge's share of the final flow."""
    n = len(graph.paths)
    out_weight = np.bincount(graph.src, weights=graph.weight, minlength=n)
    edge_share = graph.weight / np.where(out_weight[graph.src] > 0, out_weight[graph.src], 1.0)
    # Column-stochastic transition (dst <- src); duplicate (src, dst) pairs are summed.
    transition = sparse.csr_matrix((edge_share, (graph.dst, graph.src)), shape=(n, n))
    dangling = out_weight == 0
    ranks = teleport.copy()
    for _ in range(MAX_ITERATIONS):
        spread = DAMPING * (transition @ ranks + ranks[dangling].sum() * teleport)
        updated = spread + (1.0 - DAMPING) * teleport
        done = np.abs(updated - ranks).sum() < TOLERANCE
        ranks = updated
        if done:
            break
    return ranks, DAMPING * ranks[graph.src] * edge_share


def _symbol_scores(
    snapshot: Snapshot, graph: _Graph, flow: np.ndarray
) -> dict[tuple[str, str], float]:
    """Rank flowing into each (defining file, name), shared by that file's definitions of it."""
    scores: dict[tuple[str, str], float] = defaultdict(float)
    for j, name, amount in zip(graph.dst.tolist(), graph.names, flow.tolist(), strict=True):
        scores[(graph.paths[j], name)] += amount
    return scores
