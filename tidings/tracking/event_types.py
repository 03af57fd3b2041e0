"""The event types tracking writes (codes 20-29): page hits, custom events, downloads and video plays.

Only hits of visitors who may be profiled reach the event store (a consented device, or a site
tracking on legitimate interest without a GPC/DNT signal or an objection); every hit, profiled or
not, is also counted cookielessly (tidings.tracking traffic counts), which holds no identifier.
"""

from __future__ import annotations

from tidings.events.registry import INT, IP, LABEL, TOKEN, URL, register_event_type, reserve_codes

PAGE_HIT = 20
ASSET_DOWNLOAD = 21
VIDEO_HIT = 22
CUSTOM_EVENT = 23
TRACKING_CODES = range(20, 30)


def register_tracking_event_types() -> None:
    """Reserve tracking's codes and declare its types (idempotent: ready() may run twice in tests)."""
    reserve_codes("tracking", TRACKING_CODES)
    # site: the Site id; page: a landing page id (issue 11); sn: the TrackingSession id; ref: the referrer's
    # host; utm: "source|medium|campaign"; ctx: "device|os|browser|country" (tidings.tracking.collect). The
    # last three are LABELs (string dictionary), so they fit the 256-byte budget with the IP network.
    register_event_type(
        "tracking", PAGE_HIT, "page.hit", site=INT, page=INT, url=URL, ip=IP, sn=INT, ref=LABEL, utm=LABEL, ctx=LABEL
    )
    register_event_type("tracking", ASSET_DOWNLOAD, "asset.download", asset_id=INT, page=INT, ip=IP)
    register_event_type("tracking", VIDEO_HIT, "video.hit", page=INT, seconds=INT, ip=IP)
    register_event_type("tracking", CUSTOM_EVENT, "tracking.event", site=INT, name=TOKEN, url=URL, sn=INT)
