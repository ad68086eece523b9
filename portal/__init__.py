"""The population data portal and electronic map: a web application that reads only
through the analysts' read-only endpoint, so it holds and shows de-identified data only."""
