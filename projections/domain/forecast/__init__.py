"""Population forecasts: the pure cohort-component engine of issue 33.

Standard library only, no store, no clock: the registry's counts come in as dataclasses
(`inputs`), the method's pieces are small modules (`life_table`, `brass`, `fertility`,
`migration`, `projection`, `annual`, `small_area`), and what comes out is dataclasses the
command, the stored runs and the portal read. The method, its conventions and where it is
weak are in docs/forecasts.md; why this method, in docs/decisions/0015-forecast-method.md.
"""
