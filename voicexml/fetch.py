"""Fetching documents, scripts, grammars and data from files and http(s), with an HTTP-aware cache."""
from __future__ import annotations

import base64
import email.utils
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import VXMLEvent, badfetch
from .platform import FetchAudio, Platform


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
    fetched_at: float  # time.monotonic() when the response was received (or last revalidated)
    max_age: float | None  # freshness lifetime from Cache-Control / Expires; None = stale at once (http)
    stamp: tuple[int, int] | None  # a file's mtime and size (files are revalidated by these)
    etag: str | None = None  # validators for a conditional request once the entry is stale
    last_modified: str | None = None
    no_cache: bool = False  # `Cache-Control: no-cache`: revalidate before every use
    must_revalidate: bool = False  # `must-revalidate`: never used stale, whatever maxstale says
    initial_age: float = 0.0  # the `Age` the response arrived with

    def age(self) -> float:
        """Current age in seconds (RFC 9111 4.2.3, with our clock for the time since receipt)."""
        return self.initial_age + time.monotonic() - self.fetched_at


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


@dataclass(frozen=True)
class _Policy:
    """What a response's headers say about caching it."""

    store: bool
    max_age: float | None
    no_cache: bool
    must_revalidate: bool
    age: float


def _policy(headers: Any) -> _Policy:
    directives: dict[str, str] = {}
    for part in (headers.get("Cache-Control", "") or "").split(","):
        k, _, v = part.strip().partition("=")
        if k:
            directives[k.lower()] = v.strip('"')
    max_age: float | None = None
    if directives.get("max-age", "").isdigit():
        max_age = float(directives["max-age"])
    elif headers.get("Expires"):
        # Expires is relative to the server's Date, so clock skew between us and the server does not matter.
        expires, date = _http_date(headers.get("Expires")), _http_date(headers.get("Date"))
        max_age = 0.0 if expires is None else max(0.0, expires - (date if date is not None else time.time()))
    age = headers.get("Age", "")
    return _Policy(store="no-store" not in directives, max_age=max_age,
                   no_cache="no-cache" in directives, must_revalidate="must-revalidate" in directives,
                   age=float(age) if age.isdigit() else 0.0)


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # an unparseable Expires means "already expired" (RFC 9111 5.3)


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
        key = self._key(uri, method, data)
        if key is None:
            return self._http(uri, timeout_s, method="POST", data=data, enctype=enctype)
        uri = key
        entry = self._entry(uri)
        if entry is not None and self._usable(uri, entry, maxage, maxstale):
            return entry.resource
        if scheme == "file":
            return self._file(uri)
        if scheme in ("http", "https"):
            return self._http(uri, timeout_s, stale=entry, maxage=maxage, maxstale=maxstale)
        raise badfetch(f"unsupported URI scheme in {uri!r}")

    def cached(self, uri: str, *, maxage: float | None = None, maxstale: float | None = None, method: str = "get",
               data: dict[str, Any] | None = None) -> Resource | None:
        """What `fetch` with these arguments would return from the cache without any I/O but a file's stat,
        else None (the resource actually needs fetching)."""
        key = self._key(uri.partition("#")[0], method, data)
        entry = self._entry(key) if key is not None else None
        return entry.resource if entry is not None and self._usable(key or "", entry, maxage, maxstale) else None

    @staticmethod
    def _key(uri: str, method: str, data: dict[str, Any] | None) -> str | None:
        """The URI a GET fetches (with `data` in its query: the cache key); None for an http(s) POST."""
        scheme = urllib.parse.urlsplit(uri).scheme.lower()
        if scheme not in ("http", "https"):
            return uri
        if method.lower() == "post":
            return None
        if data:
            return uri + ("&" if "?" in uri else "?") + urllib.parse.urlencode(
                {k: _form_value(v) for k, v in data.items()})
        return uri

    def _entry(self, uri: str) -> _Entry | None:
        with self._lock:
            entry = self._cache.get(uri)
            if entry is not None:
                self._cache.move_to_end(uri)
            return entry

    @staticmethod
    def _usable(uri: str, entry: _Entry, maxage: float | None, maxstale: float | None) -> bool:
        """Whether a cached entry may be used without asking the server (VoiceXML 2.0 6.1.2, RFC 9111 4.2)."""
        if entry.stamp is not None:  # a file: valid while its mtime and size are unchanged
            try:
                st = os.stat(_file_path(uri))
            except OSError:
                return False
            return (st.st_mtime_ns, st.st_size) == entry.stamp
        if entry.no_cache:
            return False
        age = entry.age()
        if maxage is not None and age > maxage:  # the document wants nothing older than maxage
            return False
        # Stale content only when the document said how stale it will accept (maxstale) and the server allows it.
        tolerance = 0.0 if entry.must_revalidate else (maxstale or 0.0)
        return age <= (entry.max_age or 0.0) + tolerance

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
              data: dict[str, Any] | None = None, enctype: str = "application/x-www-form-urlencoded",
              stale: _Entry | None = None, maxage: float | None = None, maxstale: float | None = None) -> Resource:
        body = None
        headers = {"User-Agent": self.settings.user_agent}
        if data is not None and method == "POST":
            if enctype.lower().startswith("multipart/form-data"):
                body, headers["Content-Type"] = _multipart(data)
            else:
                body = urllib.parse.urlencode({k: _form_value(v) for k, v in data.items()}).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "GET":
            # Caches between us and the server should honour the document's limits too.
            wants = [f"max-age={int(maxage)}"] if maxage is not None else []
            wants += [f"max-stale={int(maxstale)}"] if maxstale is not None else []
            if wants:
                headers["Cache-Control"] = ", ".join(wants)
            if stale is not None and stale.etag:
                headers["If-None-Match"] = stale.etag
            if stale is not None and stale.last_modified:
                headers["If-Modified-Since"] = stale.last_modified
        req = urllib.request.Request(uri, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout_s or self.settings.timeout_s) as resp:
                content = resp.read(self.settings.max_bytes + 1)
                final, ctype, hdrs = resp.geturl(), resp.headers.get_content_type(), resp.headers
        except urllib.error.HTTPError as e:
            if e.code == 304 and stale is not None:
                return self._revalidated(uri, stale, e.headers)
            raise badfetch(f"HTTP {e.code} fetching {uri}", e.code) from e
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
            raise badfetch(f"cannot fetch {uri}: {e}") from e
        if len(content) > self.settings.max_bytes:
            raise badfetch(f"{uri} is larger than {self.settings.max_bytes} bytes")
        res = Resource(final, content, ctype)
        policy = _policy(hdrs)
        if method == "GET" and policy.store:
            self._store(uri, _Entry(res, time.monotonic(), policy.max_age, None, hdrs.get("ETag"),
                                    hdrs.get("Last-Modified"), policy.no_cache, policy.must_revalidate, policy.age))
        elif method == "GET":
            with self._lock:
                self._cache.pop(uri, None)
        return res

    def _revalidated(self, uri: str, stale: _Entry, headers: Any) -> Resource:
        """A 304 Not Modified: the cached body is current; its freshness starts again with the 304's headers
        where it sent them (RFC 9111 4.3.4)."""
        sent = headers if headers is not None else {}
        policy = _policy(sent)
        has_cc = "Cache-Control" in sent
        fresh = _Entry(stale.resource, time.monotonic(),
                       policy.max_age if policy.max_age is not None else stale.max_age, None,
                       sent.get("ETag") or stale.etag, sent.get("Last-Modified") or stale.last_modified,
                       policy.no_cache if has_cc else stale.no_cache,
                       policy.must_revalidate if has_cc else stale.must_revalidate, policy.age)
        self._store(uri, fresh)
        return stale.resource


def with_fetchaudio(platform: Platform, audio: FetchAudio, fetch: Callable[[], Resource]) -> Resource:
    """Run `fetch` in a helper thread while this one (the interpreter's, the only one that talks to the
    platform) waits: after `audio.delay_ms` the platform starts the fetch audio, and stops it once the fetch is
    over (after its minimum). The fetch's result or error comes back here."""
    done = threading.Event()
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(fetch())
        except BaseException as e:  # noqa: BLE001 - handed to the interpreter thread, which raises it
            outcome.append(e)
        finally:
            done.set()

    threading.Thread(target=work, name="vxml-fetch", daemon=True).start()
    if not done.wait(audio.delay_ms / 1000):
        platform.play_fetchaudio(audio)
        try:
            done.wait()
        finally:
            platform.stop_fetchaudio()
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[no-any-return]


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
