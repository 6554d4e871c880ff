"""A fast PNG encoder for opaque maps: 24-bit RGB, no row filters, zlib level 1.

Mapnik's PNG writer lets libpng try every row filter, which costs more than the rendering itself on
dense 1024 px maps. Without filters and at level 1 an opaque map encodes 3–4× faster for files of a
similar size (map images are mostly flat colour).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

_SIG = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_rgb(rgba: bytes, width: int, height: int, level: int = 1) -> bytes:
    """PNG (colour type 2) from straight RGBA bytes of an opaque image."""
    px = np.frombuffer(rgba, dtype=np.uint8).reshape(height, width, 4)
    rows = np.empty((height, 1 + width * 3), dtype=np.uint8)
    rows[:, 0] = 0  # filter type None
    rows[:, 1:] = px[:, :, :3].reshape(height, width * 3)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        _SIG
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + _chunk(b"IEND", b"")
    )
