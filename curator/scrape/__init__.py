"""Scraping prompt sources: a polite fetcher, HTML → prompt extraction, declarative sources.

``fetch``   one shared polite async HTTP client (robots.txt, per-host delay and concurrency,
            retries, size and time limits, on-disk cache with conditional requests)
``cache``   the on-disk HTTP cache the fetcher uses
``extract`` HTML → prompt candidates → cleaned, filtered prompts with their heading
``sources`` ``sources/*.toml`` → :class:`Source` values
``site``    crawling a source (links, pagination, limits) and storing what it yields
"""

from .extract import ExtractedPrompt, extract_prompts
from .fetch import FetchResult, FetchSettings, Fetcher
from .sources import Source, load_sources

__all__ = ["ExtractedPrompt", "extract_prompts", "FetchResult", "FetchSettings", "Fetcher", "Source",
           "load_sources"]
