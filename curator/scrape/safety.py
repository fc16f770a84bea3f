"""Where the fetcher may go, and how much it may read.

Why this exists: a scraped page is untrusted input, and so is every ``Location`` header it sends.
A public listicle that redirects to ``http://169.254.169.254/`` (cloud metadata) or to a service
on ``localhost`` must not make curator read it, and a redirect to another site is a different
source the user never named. The rules:

* a redirect stays on the start URL's *site* (same registrable domain, ``www.`` ignored) unless
  the source names the other host in ``crawl.redirect_hosts``;
* no request goes to a loopback, private, link-local, multicast, reserved or unspecified
  address, unless the start URL itself resolves to one (a user scraping their own intranet or a
  test server on 127.0.0.1 asked for it). The host name is resolved and *every* address checked;
* a body is read up to the cap in *decompressed* bytes, decompressing with ``max_length`` so a
  gzip bomb never expands past the cap in memory.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import socket
import zlib
from urllib.parse import urlsplit

# second-level labels under a two-letter country code that are registries, not sites (co.uk, com.au…)
_SECOND_LEVEL = frozenset("co com org net ac gov edu gob nic ne or go mil sch ltd plc".split())


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def site_of(host: str) -> str:
    """The registrable part of a host name: ``blog.example.co.uk`` → ``example.co.uk``; an IP stays."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def redirect_allowed(start_url: str, target_url: str, hosts: tuple[str, ...] = ()) -> bool:
    """True when ``target_url`` is on the start URL's site or matches a host pattern of the source."""
    target = host_of(target_url)
    if site_of(target) == site_of(host_of(start_url)):
        return True
    return any(fnmatch.fnmatch(target, pattern.lower()) for pattern in hosts)


def is_internal(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved or unspecified (IPv4-mapped IPv6 unwrapped)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified)


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to; an IP literal is itself. DNS failure raises socket.gaierror."""
    bare = host.strip("[]")
    try:
        return [str(ipaddress.ip_address(bare))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(bare, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


class CappedDecoder:
    """Content-Encoding decoding that never produces more than ``cap`` bytes in total.

    httpx's own decoder expands a whole network chunk at once (a 64 KiB chunk of a gzip bomb is
    ~64 MiB); here every ``decompress`` call is bounded by what the cap still allows.
    """

    def __init__(self, encoding: str, cap: int):
        encoding = (encoding or "identity").lower().strip()
        self.cap = cap
        self.size = 0
        self.truncated = False
        self.raw_deflate_tried = False
        if encoding in ("gzip", "x-gzip"):
            self.obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.obj = zlib.decompressobj()
        elif encoding in ("identity", ""):
            self.obj = None
        else:
            raise ValueError(encoding)

    @staticmethod
    def supports(encoding: str) -> bool:
        return (encoding or "identity").lower().strip() in ("gzip", "x-gzip", "deflate", "identity", "")

    def feed(self, data: bytes) -> bytes:
        """Decoded bytes of ``data`` up to the cap; sets ``truncated`` when the cap is reached."""
        room = self.cap - self.size
        if room <= 0:
            self.truncated = True
            return b""
        if self.obj is None:
            out = data[:room]
            if len(data) > room:
                self.truncated = True
        else:
            try:
                out = self.obj.decompress(data, room + 1)
            except zlib.error:
                if self.raw_deflate_tried or self.size:
                    raise
                self.raw_deflate_tried = True  # "deflate" sent as a raw stream (old IIS): retry once
                self.obj = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self.obj.decompress(data, room + 1)
            if len(out) > room:  # max_length reached: more is pending than the cap allows
                self.truncated = True
                out = out[:room]
        self.size += len(out)
        return out
