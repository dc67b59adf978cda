"""Fetching documents, scripts, grammars and data from files and http(s), with an HTTP-aware cache."""
from __future__ import annotations

import base64
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import VXMLEvent, badfetch


@dataclass(frozen=True)
class FetchSettings:
    """How resources are fetched: default timeout, size limit, cache size and the User-Agent sent."""

    timeout_s: float = 10.0
    max_bytes: int = 4 * 1024 * 1024
    cache_entries: int = 256
    user_agent: str = "contact-center-voicexml/0.1"
    allow_file: bool = True


@dataclass(frozen=True)
class Resource:
    """A fetched resource: its final URI (after redirects), bytes and media type."""

    uri: str
    content: bytes
    media_type: str = ""


@dataclass
class _Entry:
    resource: Resource
    fetched_at: float
    max_age: float | None  # from Cache-Control / Expires; None = revalidate by mtime (files) or always (http)
    stamp: tuple[int, int] | None  # a file's mtime and size


def to_uri(location: str) -> str:
    """An absolute URI for a path or URI given on the command line."""
    if "://" in location or location.startswith("file:"):
        return location
    path, hash_, fragment = location.partition("#")  # `menu.vxml#billing` starts at a dialog
    return Path(path).resolve().as_uri() + hash_ + fragment


def resolve(base: str | None, ref: str) -> str:
    """`ref` resolved against `base` (RFC 3986), keeping `file:` URIs working."""
    ref = ref.strip()
    if not base:
        return to_uri(ref)
    return urllib.parse.urljoin(base, ref)


def _max_age(headers: Any) -> float | None:
    cc = headers.get("Cache-Control", "") if headers else ""
    for part in cc.split(","):
        k, _, v = part.strip().partition("=")
        if k.lower() in ("no-cache", "no-store"):
            return 0.0
        if k.lower() == "max-age" and v.isdigit():
            return float(v)
    return None


class Fetcher:
    """Fetches resources; thread-safe; one per process is enough (sessions share its cache)."""

    def __init__(self, settings: FetchSettings = FetchSettings()) -> None:
        self.settings = settings
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def fetch(self, uri: str, *, timeout_s: float | None = None, maxage: float | None = None,
              maxstale: float | None = None, method: str = "get", data: dict[str, Any] | None = None,
              enctype: str = "application/x-www-form-urlencoded") -> Resource:
        """The resource at `uri` (fragment ignored); raises VXMLEvent `error.badfetch[.http.NNN]`.

        `data` goes in the query (GET) or the body (POST, url-encoded or `multipart/form-data`, where recordings
        held as `data:` URIs become file parts)."""
        uri, _, _ = uri.partition("#")
        scheme = urllib.parse.urlsplit(uri).scheme.lower()
        if method.lower() == "post" and scheme in ("http", "https"):
            return self._http(uri, timeout_s, method="POST", data=data, enctype=enctype)
        if data and scheme in ("http", "https"):
            query = urllib.parse.urlencode({k: _form_value(v) for k, v in data.items()})
            uri = uri + ("&" if "?" in uri else "?") + query
        cached = self._cached(uri, maxage, maxstale)
        if cached is not None:
            return cached
        if scheme == "file":
            return self._file(uri)
        if scheme in ("http", "https"):
            return self._http(uri, timeout_s)
        raise badfetch(f"unsupported URI scheme in {uri!r}")

    def _cached(self, uri: str, maxage: float | None, maxstale: float | None) -> Resource | None:
        with self._lock:
            entry = self._cache.get(uri)
            if entry is None:
                return None
            self._cache.move_to_end(uri)
        if entry.stamp is not None:  # a file: valid while its mtime is unchanged
            path = _file_path(uri)
            try:
                st = os.stat(path)
                return entry.resource if (st.st_mtime_ns, st.st_size) == entry.stamp else None
            except OSError:
                return None
        age = time.monotonic() - entry.fetched_at
        if maxage is not None and age > maxage:
            return None
        fresh_for = entry.max_age if entry.max_age is not None else 0.0
        if age <= fresh_for + (maxstale or 0.0):
            return entry.resource
        return None

    def _store(self, uri: str, entry: _Entry) -> None:
        with self._lock:
            self._cache[uri] = entry
            self._cache.move_to_end(uri)
            while len(self._cache) > self.settings.cache_entries:
                self._cache.popitem(last=False)

    def _file(self, uri: str) -> Resource:
        if not self.settings.allow_file:
            raise VXMLEvent("error.noauthorization", f"file access is not allowed: {uri}")
        path = _file_path(uri)
        try:
            st = os.stat(path)
            if st.st_size > self.settings.max_bytes:
                raise badfetch(f"{uri} is larger than {self.settings.max_bytes} bytes")
            with open(path, "rb") as f:
                content = f.read()
        except FileNotFoundError as e:
            # A missing file is reported as a web server would report it, so that documents catch the same
            # event (error.badfetch.http.404) whether they are served from files or over HTTP.
            raise badfetch(f"not found: {uri}", 404) from e
        except IsADirectoryError as e:
            raise badfetch(f"is a directory: {uri}") from e
        except PermissionError as e:
            raise badfetch(f"permission denied: {uri}", 403) from e
        except OSError as e:
            raise badfetch(f"cannot read {uri}: {e}") from e
        res = Resource(uri, content, _guess_type(uri))
        self._store(uri, _Entry(res, time.monotonic(), None, (st.st_mtime_ns, st.st_size)))
        return res

    def _http(self, uri: str, timeout_s: float | None, method: str = "GET",
              data: dict[str, Any] | None = None, enctype: str = "application/x-www-form-urlencoded") -> Resource:
        body = None
        headers = {"User-Agent": self.settings.user_agent}
        if data is not None and method == "POST":
            if enctype.lower().startswith("multipart/form-data"):
                body, headers["Content-Type"] = _multipart(data)
            else:
                body = urllib.parse.urlencode({k: _form_value(v) for k, v in data.items()}).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(uri, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout_s or self.settings.timeout_s) as resp:
                content = resp.read(self.settings.max_bytes + 1)
                final, ctype, hdrs = resp.geturl(), resp.headers.get_content_type(), resp.headers
        except urllib.error.HTTPError as e:
            raise badfetch(f"HTTP {e.code} fetching {uri}", e.code) from e
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
            raise badfetch(f"cannot fetch {uri}: {e}") from e
        if len(content) > self.settings.max_bytes:
            raise badfetch(f"{uri} is larger than {self.settings.max_bytes} bytes")
        res = Resource(final, content, ctype)
        if method == "GET":
            self._store(uri, _Entry(res, time.monotonic(), _max_age(hdrs), None))
        return res


def _multipart(data: dict[str, Any]) -> tuple[bytes, str]:
    """A multipart/form-data body: `data:` URI values (recordings) as files, the rest as text fields."""
    boundary = f"vxml-{uuid.uuid4().hex}"
    out = bytearray()
    for name, value in data.items():
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, str) and value.startswith("data:") and ";base64," in value:
            media, _, payload = value[5:].partition(";base64,")
            out += (f'Content-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                    f"Content-Type: {media or 'application/octet-stream'}\r\n\r\n").encode()
            out += base64.b64decode(payload) + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += _form_value(value).encode() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _form_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        import json
        return json.dumps(v)
    return str(v)


def _file_path(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    return urllib.request.url2pathname(parts.path)


def _guess_type(uri: str) -> str:
    import mimetypes
    return mimetypes.guess_type(uri)[0] or ""
