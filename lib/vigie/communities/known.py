"""Graphs with known communities, for quality tests and benchmarks (../shared/data/community-graphs).

Each loader returns `KnownGraph`: node names, undirected weighted edges and the true community of
every node. Formats: GML (football: `value` is the conference; dolphins: `group`; the LFR graphs:
`community` repeated once per member of the node's community, as networkx writes it), and the karate
club as two CSV files.

Example:
    >>> g = load_known("football", "../shared/data/community-graphs")  # doctest: +SKIP
    >>> len(set(g.truth.values()))  # doctest: +SKIP
    12
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass

KNOWN = ("football", "dolphins", "karate", "lfr-0.1", "lfr-0.2", "lfr-0.3", "lfr-0.4")


@dataclass
class KnownGraph:
    name: str
    nodes: list[str]
    edges: list[tuple[str, str, float]]  # src, dst, weight; each undirected edge once
    truth: dict[str, int]


def _gml(path: str, name: str, attribute: str) -> KnownGraph:
    import networkx as nx

    g = nx.read_gml(path, label="id")
    nodes = [str(n) for n in g.nodes]
    truth: dict[str, int] = {}
    for n, data in g.nodes(data=True):
        value = data[attribute]
        # LFR lists the members of the node's community: name the community by its smallest member
        truth[str(n)] = int(min(value)) if isinstance(value, list) else int(value)
    edges = sorted({(min(str(a), str(b)), max(str(a), str(b))) for a, b in g.edges if a != b})
    return KnownGraph(name, nodes, [(a, b, 1.0) for a, b in edges], truth)


def _karate(folder: str) -> KnownGraph:
    with open(os.path.join(folder, "karate_club_labels.csv"), encoding="utf-8") as fh:
        clubs = {row["node"]: row["club"] for row in csv.DictReader(fh)}
    ids = {c: i for i, c in enumerate(sorted(set(clubs.values())))}
    with open(os.path.join(folder, "karate_club_edges.csv"), encoding="utf-8") as fh:
        edges = [(row["src"], row["dst"], float(row["weight"])) for row in csv.DictReader(fh)]
    return KnownGraph("karate", list(clubs), edges, {n: ids[c] for n, c in clubs.items()})


def load_known(name: str, folder: str) -> KnownGraph:
    """One of KNOWN from the community-graphs folder."""
    if name == "football":
        return _gml(os.path.join(folder, "football.gml"), name, "value")
    if name == "dolphins":
        return _gml(os.path.join(folder, "dolphins.gml"), name, "group")
    if name == "karate":
        return _karate(folder)
    if name.startswith("lfr-"):
        return _gml(os.path.join(folder, "lfr_synthetic", f"mu-{name[4:]}.gml"), name, "community")
    raise ValueError(f"unknown graph {name!r}; known: {list(KNOWN)}")
