"""popreg's version, written into every file it exports and every API it serves."""

VERSION = "0.1.0"
