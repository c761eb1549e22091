"""Real (small) PNG photos for demo data: a plain colour picked by a number."""

import struct
import zlib

_COLOURS = ((176, 190, 197), (120, 144, 156), (161, 136, 127), (129, 199, 132), (255, 183, 77))


def demo_photo(number: int, width: int = 64, height: int = 48) -> bytes:
    """A `width`×`height` PNG of one colour; different numbers give different photos."""
    red, green, blue = _COLOURS[number % len(_COLOURS)]
    row = b"\x00" + bytes((red, green, (blue + number) % 256)) * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))
