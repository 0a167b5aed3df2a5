"""Hostile PDFs, made small but of the shape that hurts (a test helper).

Each builder writes a complete PDF by hand (objects, a correct cross-reference table, a
trailer): one page whose content is the attack. Sizes are parameters so that a test can make
the attack as small as it needs while keeping its shape.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

MEDIA_BOX = (612, 792)  # US Letter, in points
_CHUNK = 1 << 20


def document(objects: Sequence[bytes]) -> bytes:
    """A PDF whose object n (from 1) is `objects[n - 1]`; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def stream(data: bytes, entries: bytes = b"") -> bytes:
    """A stream object's body: its dictionary (`entries` and the length) and its data."""
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def one_page(content: bytes, resources: bytes = b"<< >>", extra: Sequence[bytes] = (),
             content_entries: bytes = b"", media_box: tuple[float, float] = MEDIA_BOX) -> bytes:
    """One page drawn by `content`; `extra` objects are numbered from 5 on."""
    return document([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Resources %s /Contents 4 0 R >>"
        % (*media_box, resources),
        stream(content, content_entries),
        *extra,
    ])


def text_page(text: str = "Member States shall act.") -> bytes:
    """A page with one line of text in Helvetica: the smallest good PDF."""
    return one_page(b"BT /F1 12 Tf 72 700 Td (%s) Tj ET" % text.encode("latin-1"), _HELVETICA)


def no_pages() -> bytes:
    """A well-formed document with an empty page tree."""
    return document([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def xobject_fanout(depth: int) -> bytes:
    """A page that draws form 0; form k draws form k + 1 twice; the last draws nothing.

    2**depth forms are drawn from `depth` + 5 objects: depth 30 is a billion in ~4 KB.
    """
    forms = [
        stream(b"/X Do /X Do", b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X %d 0 R >> >>"
               % (number + 1))
        for number in range(5, 5 + depth)
    ]
    leaf = stream(b"", b"/Type /XObject /Subtype /Form /BBox [0 0 10 10]")
    return one_page(b"/X Do", b"<< /XObject << /X 5 0 R >> >>", [*forms, leaf])


def crowded_page(glyphs: int, spacing: float = 20.0) -> bytes:
    """One page of `glyphs` letters, each far from the others: every one is a text box of its own,
    and pdfminer groups text boxes pairwise (superlinear). The content is deflated."""
    columns = max(1, round(glyphs**0.5))
    rows = -(-glyphs // columns)
    shows = b"".join(b"1 0 0 1 %g %g Tm (x) Tj\n" % (10 + spacing * (i % columns), 10 + spacing * (i // columns))
                     for i in range(glyphs))
    content = zlib.compress(b"BT /F1 2 Tf\n" + shows + b"ET", 9)
    size = (20 + spacing * columns, 20 + spacing * rows)
    return one_page(content, _HELVETICA, content_entries=b"/Filter /FlateDecode", media_box=size)


def flate_bomb(inflated: int) -> bytes:
    """A page whose content stream is `inflated` zero bytes, deflated twice (a few KB for 400 MB).

    Made a MiB at a time: building it never holds the inflated stream.
    """
    deflate = zlib.compressobj(9)
    zeros = bytes(_CHUNK)
    inner = b"".join(deflate.compress(zeros[: min(_CHUNK, inflated - done)]) for done in range(0, inflated, _CHUNK))
    inner += deflate.flush()
    return one_page(zlib.compress(inner, 9), content_entries=b"/Filter [/FlateDecode /FlateDecode]")


_HELVETICA = b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"
