"""Files analysts open: the hashtag graph as GEXF (Gephi) and as a PNG drawing coloured by community.

The GEXF holds every node and edge with their attributes (tweets, script, one community column per
method; edge tweets, PMI). The PNG draws the `draw_nodes` heaviest hashtags only, laid out with a
seeded spring layout, so two runs on the same data draw the same picture. Hashtags in scripts the
installed fonts lack (CJK on a bare machine) are drawn as boxes; the GEXF holds the text.
"""

from __future__ import annotations

import os
import warnings

import pandas as pd


def _graph(nodes: pd.DataFrame, edges: pd.DataFrame):
    import networkx as nx

    g = nx.Graph()
    for row in nodes.to_dict("records"):
        attrs = {
            k: (None if pd.isna(v) else (int(v) if k != "script" and k != "hashtag" else v)) for k, v in row.items()
        }
        g.add_node(row["hashtag"], **{k: v for k, v in attrs.items() if k != "hashtag" and v is not None})
    for row in edges.itertuples(index=False):
        g.add_edge(row.src, row.dst, weight=float(row.tweets), tweets=int(row.tweets), pmi=float(row.pmi))
    return g


def write_gexf(nodes: pd.DataFrame, edges: pd.DataFrame, path: str) -> str:
    """nodes: hashtag, tweets, users, script and one column per method; edges: src, dst, tweets, pmi."""
    import networkx as nx

    os.makedirs(os.path.dirname(path), exist_ok=True)
    nx.write_gexf(_graph(nodes, edges), path)
    return path


def draw(nodes: pd.DataFrame, edges: pd.DataFrame, color_by: str, max_nodes: int, path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    g = _graph(nodes, edges)
    keep = sorted(g.nodes, key=lambda n: -g.degree(n, weight="weight"))[:max_nodes]
    sub = g.subgraph(keep)
    pos = nx.spring_layout(sub, weight="weight", seed=7, k=1.5 / max(1, len(keep)) ** 0.5)
    communities = [sub.nodes[n].get(color_by, -1) for n in sub.nodes]
    sizes = [20 + 400 * (sub.nodes[n].get("tweets", 1) / max(1, nodes["tweets"].max())) ** 0.5 for n in sub.nodes]
    fig, ax = plt.subplots(figsize=(12, 10))
    nx.draw_networkx_edges(sub, pos, ax=ax, alpha=0.15, width=0.5)
    nx.draw_networkx_nodes(sub, pos, ax=ax, node_color=communities, cmap="tab20", node_size=sizes)
    labels = {n: n for n in sorted(sub.nodes, key=lambda n: -sub.nodes[n].get("tweets", 0))[:40]}
    nx.draw_networkx_labels(sub, pos, labels, ax=ax, font_size=7)
    ax.set_title(f"Hashtag co-occurrence, the {len(keep)} heaviest tags, coloured by {color_by} community")
    ax.axis("off")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
