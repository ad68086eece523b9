"""The portal's map data: vendored outlines and commune points (see README.md here).

`files` loads what the portal serves; `build` is the tool that made it.
"""
