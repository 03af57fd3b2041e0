"""The native API of tracking under /api/v1/ (the API discovers one `router` per app).

H-sites owns this module (sites endpoints); until that lands, it only mounts the traffic router.
At the merge, keep H-sites' module and add the two traffic lines below to it.
"""

from ninja import Router

from tidings.tracking.traffic_api import router as traffic_router

router = Router(tags=["tracking"])
router.add_router("", traffic_router)
