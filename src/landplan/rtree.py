"""A GeoPackage layer's spatial index (SQLite's R-tree), read and searched as arrays.

A GeoPackage keeps each layer's spatial index in an SQLite R-tree virtual table,
``rtree_<layer>_<geometry>(id, minx, maxx, miny, maxy)``. SQLite stores its nodes in the table
``<name>_node`` (``nodeno``, ``data``) in a fixed format, set out at the top of SQLite's
``ext/rtree/rtree.c``: node 1 is the root; a node's blob holds the tree's depth (2 bytes, in the root
only), its number of entries (2 bytes), then the entries, each an 8-byte integer (a child node, or in
a leaf the feature's id) and four 4-byte floats (minx, maxx, miny, maxy, rounded outward from the
features' double-precision boxes), all big-endian.

Asking SQLite for the features under a box costs some 8 µs a box, most of it reading the same nodes
again for each box: a city's road network, covered by 15,000 boxes, took 0.15–0.2 s to search, and
the search for the features that may overlap those read 0.4 s. :class:`Index` reads each node once
and takes all the boxes down the tree together, level by level: every (node, box) pair whose boxes
meet becomes (child, box) pairs, and what reaches the leaves is the answer.

The comparisons are SQLite's own (the stored single-precision values, widened to double, against the
double-precision query), so a search finds exactly the features of
``SELECT id FROM rtree WHERE maxx >= :minx AND minx <= :maxx AND maxy >= :miny AND miny <= :maxy``;
a test compares the two on real files.
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from .arrays import unique

#: A node's entry: the child node's number (in a leaf, the feature's id) and its box as SQLite stores them.
_ENTRY = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])


class IndexFormatError(Exception):
    """The R-tree is not the two-dimensional, single-precision index a GeoPackage keeps (the caller asks SQLite instead)."""


def connect(path: Path) -> closing[sqlite3.Connection]:
    """A read-only connection to a GeoPackage through Python's own SQLite, closed on leaving its ``with``."""
    return closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True))


class Index:
    """The R-tree ``table`` of the GeoPackage ``path``; nodes are read as searches need them, and kept.

    One search at a time: the nodes read are shared by later searches (on any thread, each with its
    own connection).
    """

    def __init__(self, path: Path, table: str) -> None:
        if not re.fullmatch(r"\w+", table):
            raise IndexFormatError(f"not a plain table name: {table!r}")
        self.path, self.table = path, table
        self._nos = np.zeros(0, dtype="int64")    # the nodes read, sorted
        self._first = np.zeros(0, dtype="int64")  # where each one's entries start in the arrays below
        self._count = np.zeros(0, dtype="int64")
        self._id = np.zeros(0, dtype="int64")
        self._cols = tuple(np.zeros(0) for _ in range(4))  # minx, miny, maxx, maxy (float64)
        self._node_size = 0
        with connect(path) as con:
            sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            if sql is None or not re.search(r"USING\s+rtree\s*\(\s*\w+\s*(,\s*\w+\s*){4}\)\s*$", sql[0], re.IGNORECASE):
                raise IndexFormatError(f"{table} is not a two-dimensional R-tree")
            self._read(con, np.array([1], dtype="int64"))
        root = self._entries(np.array([1], dtype="int64"))
        self.depth = self._root_depth
        self._root = root

    def _read(self, con: sqlite3.Connection, nos: np.ndarray) -> None:
        """Read the nodes ``nos`` (not yet read) and add their entries."""
        rows = con.execute(f'SELECT nodeno, data FROM "{self.table}_node" WHERE nodeno IN (SELECT value FROM json_each(?))',
                           (json.dumps(nos.tolist()),)).fetchall()
        if len(rows) != len(nos):
            raise IndexFormatError(f"{self.table}: {len(nos) - len(rows)} node(s) missing")
        size = self._node_size or len(rows[0][1])
        if size < 28 or any(not isinstance(d, bytes) or len(d) != size for _, d in rows):
            raise IndexFormatError(f"{self.table}: nodes of unexpected sizes")
        got = np.fromiter((r[0] for r in rows), dtype="int64", count=len(rows))
        raw = np.frombuffer(b"".join([r[1] for r in rows]), dtype=np.uint8).reshape(len(rows), size)
        if not self._node_size:  # the root comes first, alone: its first two bytes are the tree's depth
            self._root_depth = int(raw[0, 0]) << 8 | int(raw[0, 1])
            self._node_size = size
        count = (raw[:, 2].astype("int64") << 8) | raw[:, 3]
        per = (size - 4) // _ENTRY.itemsize
        if (count > per).any():
            raise IndexFormatError(f"{self.table}: a node holds more entries than fit")
        entries = np.ascontiguousarray(raw[:, 4:4 + per * _ENTRY.itemsize]).view(_ENTRY).reshape(len(rows), per)
        e = entries[np.arange(per)[None, :] < count[:, None]]
        first = len(self._id) + np.cumsum(count) - count
        nos_all = np.concatenate([self._nos, got])
        order = np.argsort(nos_all, kind="stable")
        self._nos = nos_all[order]
        self._first = np.concatenate([self._first, first])[order]
        self._count = np.concatenate([self._count, count])[order]
        self._id = np.concatenate([self._id, e["id"].astype("int64")])
        self._cols = tuple(np.concatenate([c, e[k].astype("float64")]) for c, k in zip(self._cols, ("minx", "miny", "maxx", "maxy")))

    def _entries(self, nos: np.ndarray) -> np.ndarray:
        """Positions (in the entry arrays) of the entries of the nodes ``nos`` (already read), node by node."""
        at = np.searchsorted(self._nos, nos)
        n = self._count[at]
        return np.repeat(self._first[at] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))

    def search(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (entry, box) of a leaf entry and one of ``boxes`` (``(m, 4)``: minx, miny, maxx, maxy)
        that meet (edges touching count), unsorted; :meth:`ids` and :meth:`boxes` describe the entries."""
        boxes = np.asarray(boxes, dtype="float64").reshape(-1, 4)
        q0, q1, q2, q3 = (np.ascontiguousarray(boxes[:, k]) for k in range(4))
        ent = self._root
        ei = np.repeat(ent, len(boxes))
        qi = np.tile(np.arange(len(boxes), dtype="int64"), len(ent))
        with connect(self.path) as con:
            for level in range(self.depth + 1):
                x0, y0, x1, y1 = self._cols
                # x first, then y on what is left: each test gathers two columns of the pairs
                ok = (x1.take(ei) >= q0.take(qi)) & (x0.take(ei) <= q2.take(qi))
                ei, qi = ei[ok], qi[ok]
                ok = (y1.take(ei) >= q1.take(qi)) & (y0.take(ei) <= q3.take(qi))
                ei, qi = ei[ok], qi[ok]
                if level == self.depth:
                    return ei, qi
                child = self._id.take(ei)
                nos = unique(child)
                new = nos[~np.isin(nos, self._nos, assume_unique=True)]
                if len(new):
                    self._read(con, new)
                # each (node, box) pair becomes (entry, box) for each of the node's entries
                at = np.searchsorted(self._nos, child)
                n = self._count.take(at)
                qi = np.repeat(qi, n)
                ei = np.repeat(self._first.take(at) - (np.cumsum(n) - n), n) + np.arange(len(qi))
        return ei, qi  # pragma: no cover - the loop returns

    def ids(self, entries: np.ndarray) -> np.ndarray:
        """The feature ids of leaf ``entries``."""
        return self._id[entries]

    def boxes(self, entries: np.ndarray) -> np.ndarray:
        """The stored boxes ``(n, 4)`` (minx, miny, maxx, maxy; single precision rounded outward, so each
        covers its feature's exact box) of ``entries``."""
        return np.column_stack([c.take(entries) for c in self._cols])


def covers(index: Index, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The features whose stored box meets one of ``boxes``: their ids (sorted), their stored boxes, and
    for each of ``boxes`` that meets any, in order, the union of those features' stored boxes."""
    boxes = np.asarray(boxes, dtype="float64").reshape(-1, 4)
    ei, qi = index.search(boxes)
    fb = index.boxes(ei)
    lo = np.full((len(boxes), 2), np.inf)
    hi = np.full((len(boxes), 2), -np.inf)
    np.minimum.at(lo, qi, fb[:, :2])
    np.maximum.at(hi, qi, fb[:, 2:])
    met = np.isfinite(lo[:, 0])
    ids, first = _distinct(index.ids(ei))
    return ids, fb[first], np.column_stack([lo[met], hi[met]])


def meeting(index: Index, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The features whose stored box meets one of ``boxes``: their ids (sorted) and stored boxes."""
    ei, _ = index.search(boxes)
    ids, first = _distinct(index.ids(ei))
    return ids, index.boxes(ei[first])


def _distinct(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ``ids`` and where each first occurs (``numpy.unique(..., return_index=True)``, by sorting)."""
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    keep = np.r_[True, s[1:] != s[:-1]] if len(s) else np.zeros(0, dtype=bool)
    return s[keep], order[keep]
