"""Cross-workspace declarations of tracking's routes (tidings/tests/test_cross_workspace.py)."""

# --- H-script: the tracker scripts (tidings.tracking.scripts) ---------------------------------------
GLOBAL_ROUTES = {
    "tracking_scripts:tracker": "t.js, the same public file for everyone; no workspace data",
    "tracking_scripts:mautic_tracker": "mtc.js, the same public file for every slug (not looked up); no workspace data",
}
