"""The benchmark (`popreg bench`): popreg's figures against baselines measured in the
same run, on a scratch stack. Loaded only when asked for."""

GROUPS = (
    "publish",
    "live",
    "rebuild",
    "baselines",
    "replay",
    "queries",
    "portal",
    "freshness",
    "forecast",
)
SCALES = ("small", "province")
