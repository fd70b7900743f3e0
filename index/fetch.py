"""Fetch one web address with explicit limits, or say in one line why it could not be fetched.

httpx does the HTTP. The limits (`FetchLimits`): 15 s for the whole fetch (connecting, waiting and
reading together), at most 5 redirects, 10 MB of body (a larger `Content-Length` is refused before
reading, and a body without one is counted while it streams and dropped at the limit, so a huge
response is never read whole), and a content-type check (HTML, a feed, a sitemap or a PDF; a
binary body sent as text is refused too). Every request names the product in its User-Agent.

Each failure is a `FetchError` whose message is "URL: reason", the reason one of: cannot resolve
the host (DNS), cannot connect, timed out, HTTP status, too large, not an article (content type),
redirect loop, too many redirects. What this leaves out: reading the body (`index.sources`).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from index.errors import BadArticleError

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+xml")
XML_TYPES = ("application/xml", "text/xml")  # a feed or a sitemap: the body says which
PDF_TYPES = ("application/pdf",)
ACCEPTED_TYPES = HTML_TYPES + FEED_TYPES + XML_TYPES + PDF_TYPES


@dataclass(frozen=True)
class FetchLimits:
    timeout_s: float = 15.0
    max_redirects: int = 5
    max_bytes: int = 10 * 1000 * 1000
    # False: refuse an address (the first or any redirect's) that resolves to this machine or a
    # private network, for a server fetching links its users typed
    private_addresses: bool = True


DEFAULT_LIMITS = FetchLimits()


class FetchError(BadArticleError):
    """A web address that gave no article; the message names the address and the reason."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason


@dataclass(frozen=True)
class Fetched:
    url: str  # asked for
    final_url: str  # after redirects
    content_type: str  # media type, lower case, no parameters
    body: bytes

    def text(self) -> str:
        """The body as text: by the charset the server declared, else as the page declares it
        (`<meta charset>`, detected by trafilatura), else UTF-8."""
        if self.charset:
            try:
                return self.body.decode(self.charset, errors="replace")
            except LookupError:
                pass
        from trafilatura.utils import decode_file

        return decode_file(self.body)

    charset: str | None = None


def user_agent() -> str:
    from newsqa import version

    return f"newsqa/{version()} (+article fetcher)"


def fetch(url: str, limits: FetchLimits = DEFAULT_LIMITS, client=None) -> Fetched:
    """The body at `url` (after at most `limits.max_redirects` redirects), or FetchError."""
    import httpx

    deadline = time.monotonic() + limits.timeout_s
    own = client is None
    if own:
        client = httpx.Client(timeout=httpx.Timeout(limits.timeout_s), follow_redirects=False,
                              headers={"User-Agent": user_agent(),
                                       "Accept": "text/html,application/xhtml+xml,application/rss+xml,"
                                                 "application/atom+xml,application/xml;q=0.9,application/pdf;q=0.8"})
    try:
        return _fetch(client, url, limits, deadline)
    finally:
        if own:
            client.close()


def _fetch(client, url: str, limits: FetchLimits, deadline: float) -> Fetched:
    import httpx

    seen = [url]
    current = url
    for _ in range(limits.max_redirects + 1):
        try:
            if not limits.private_addresses:
                _check_public(url, current)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise httpx.TimeoutException("deadline")
            request = client.build_request("GET", current, timeout=httpx.Timeout(remaining))
            response = client.send(request, stream=True)
        except httpx.InvalidURL as e:
            raise FetchError(url, f"not a valid address ({e})") from e
        except httpx.UnsupportedProtocol as e:
            raise FetchError(url, "not an http or https address") from e
        except httpx.TimeoutException as e:
            raise FetchError(url, f"timed out after {limits.timeout_s:g} s") from e
        except httpx.ConnectError as e:
            if _is_dns_failure(e):
                raise FetchError(url, f"DNS: cannot resolve the host {httpx.URL(current).host!r}") from e
            raise FetchError(url, f"cannot connect ({e})") from e
        except httpx.HTTPError as e:
            raise FetchError(url, f"network error ({type(e).__name__}: {e})") from e
        try:
            if response.is_redirect:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(url, f"HTTP {response.status_code} redirect without a Location")
                current = str(response.url.join(location))
                if current in seen:
                    raise FetchError(url, f"redirect loop ({' -> '.join(seen + [current])})")
                seen.append(current)
                continue
            if response.status_code >= 400:
                raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
            return _read(response, url, limits, deadline)
        finally:
            response.close()
    raise FetchError(url, f"too many redirects (more than {limits.max_redirects})")


def _read(response, url: str, limits: FetchLimits, deadline: float) -> Fetched:
    import httpx

    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ACCEPTED_TYPES:
        raise FetchError(url, f"not an article (content type {media or 'missing'}; "
                              f"expected HTML, a feed, a sitemap or a PDF)")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(url, f"too large ({int(declared) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:g} MB)")
    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limits.max_bytes:
                raise FetchError(url, f"too large (more than {limits.max_bytes / 1e6:g} MB; stopped reading)")
            if time.monotonic() > deadline:
                raise FetchError(url, f"timed out after {limits.timeout_s:g} s (reading the body)")
            chunks.append(chunk)
    except httpx.TimeoutException as e:
        raise FetchError(url, f"timed out after {limits.timeout_s:g} s (reading the body)") from e
    except httpx.HTTPError as e:
        raise FetchError(url, f"network error while reading ({type(e).__name__}: {e})") from e
    body = b"".join(chunks)
    if media not in PDF_TYPES and b"\x00" in body[:8192]:
        raise FetchError(url, f"not an article (binary content sent as {media})")
    return Fetched(url, str(response.url), media, body, charset=response.charset_encoding)


def resolve(host: str) -> set[str]:
    """The addresses a host name resolves to."""
    return {info[4][0] for info in socket.getaddrinfo(host, None)}


def _check_public(url: str, current: str) -> None:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(current).hostname or ""
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError) as e:
        raise FetchError(url, f"DNS: cannot resolve the host {host!r}") from e
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified:
            raise FetchError(url, f"refused: {host} is this machine or on a private network")


def _is_dns_failure(error: BaseException) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, socket.gaierror):
            return True
        text = str(error)
        if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text \
                or "Temporary failure in name resolution" in text or "No address associated" in text:
            return True
        error = error.__cause__ or error.__context__
    return False
