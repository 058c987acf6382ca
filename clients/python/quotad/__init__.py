"""quotad: the Python client of the quotad daemon (standard library only).

    import quotad

    q = quotad.Client()              # QUOTAD_SERVER / QUOTAD_TOKEN, else http://127.0.0.1:8080
    q.spend("youtube", 100, channel="RankRiot")
    try:
        q.spend("groq", 1200, channel="RankRiot")
    except quotad.QuotaExhausted as e:
        print("groq is back at", e.until, "- in", e.retry_after, "s")

    with q.guard("RankRiot", api="groq"):   # reports the provider's error, then re-raises it
        ...

The seed's functions (reset_quota, reset_all_quotas, auto_resume_paused_channels,
get_quota_status_summary, handle_api_error) are in quotad.quota_manager.
See docs/python.md.
"""

from .client import DEFAULT_URL, Client, Reservation
from .errors import (Conflict, InvalidRequest, NotFound, QuotadError, QuotaExhausted, Unauthorized,
                     Unavailable)
from .guard import Guard, describe_error

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Reservation",
    "Guard",
    "describe_error",
    "DEFAULT_URL",
    "QuotadError",
    "QuotaExhausted",
    "Unauthorized",
    "NotFound",
    "InvalidRequest",
    "Conflict",
    "Unavailable",
]
