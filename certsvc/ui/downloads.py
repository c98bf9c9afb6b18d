"""The Content-Disposition of a download, under a name a person gave (an attachment, a draft) or the service made.

Headers travel as Latin-1: a Vietnamese name written raw makes the server fail the response. The header gives an
ASCII stand-in (``filename``, diacritics dropped, for old clients) and the real name as RFC 6266 / RFC 5987
``filename*`` (UTF-8, percent-encoded); a line break or another control character a name arrived with cannot
go into a header at all and becomes a space.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response

__all__ = ["content_disposition", "stored_file_download"]

#: Letters that Unicode does not decompose into an ASCII letter and a mark.
_UNDECOMPOSED = str.maketrans({"đ": "d", "Đ": "D"})
_FALLBACK = "tep-tai-ve"


def content_disposition(filename: str) -> str:
    """The header value for a download named ``filename``."""
    name = " ".join("".join(c if c.isprintable() else " " for c in filename).split()) or _FALLBACK
    ascii_name = unicodedata.normalize("NFKD", name.translate(_UNDECOMPOSED)).encode("ascii", "ignore").decode()
    ascii_name = ascii_name.replace('"', "'").replace("\\", "-").strip() or _FALLBACK
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def stored_file_download(content: bytes, filename: str, media_type: str) -> Response:
    """A file a person uploaded (a scanned identity card, a signed letter), as a download: under its name, of
    the type it was checked to be and never sniffed as another, and kept by no cache."""
    response = Response(content, mimetype=media_type)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.no_store = True
    return response
