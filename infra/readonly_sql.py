"""What the analyst user may run, judged on ClickHouse's own parse of the statement.

The engine setting `readonly=1` alone does not make chDB read-only: measured, it still
let `INTO OUTFILE`, `file()`, `SYSTEM`, `KILL` and several statements in one call through.
So the host first has the engine's parser normalise the statement
(`formatQuerySingleLine`: exactly one statement, comments gone, keywords upper-case,
identifiers unquoted where possible), checks that text here, and runs that text (never
the original) with `readonly=1` applied last.

The checks are on text, so they refuse a little more than they must (a string literal
that reads like `file(` is refused too); that is the safe direction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from popreg.settings import CLICKHOUSE_DATABASE

# Statements that only read, as formatQuerySingleLine spells them (DESC -> DESCRIBE TABLE).
_ALLOWED_STATEMENT = re.compile(r"^\(*\s*(SELECT|WITH|SHOW|DESCRIBE|EXISTS|EXPLAIN)\b")
# SHOW forms that list metadata; PROCESSLIST, GRANTS, USERS, MERGES... are not among them.
_ALLOWED_SHOW = re.compile(
    r"^SHOW ((FULL|EXTENDED|TEMPORARY) )*(TABLES|DATABASES|COLUMNS|FIELDS|DICTIONARIES"
    r"|INDEX|INDEXES|INDICES|KEYS|FUNCTIONS|ENGINES|SETTING|SETTINGS|CHANGED SETTINGS"
    r"|CREATE (TEMPORARY )?(TABLE|VIEW|DICTIONARY|DATABASE))\b"
)
_INTO_OUTFILE = re.compile(r"\bINTO\s+OUTFILE\b", re.IGNORECASE)
_IDENTIFIER_BIND = re.compile(r"\{\s*(\w+)\s*:\s*Identifier\s*\}", re.IGNORECASE)
_PLAIN_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)?$")
# The handshake clickhouse-connect sends on connect; answered without readonly (see host).
HANDSHAKE = re.compile(
    r"^SELECT name, value, readonly FROM system\.settings( LIMIT \d+)?( FORMAT \w+)?$"
)
# Outside popreg, the analyst may read only what the client's handshake reads.
_ALLOWED_SYSTEM_TABLES = frozenset({"settings", "functions"})

# Table functions that only generate or reshape values given in the query itself.
PURE_TABLE_FUNCTIONS = frozenset(
    {
        "SQLStandardValues",
        "format",
        "fuzzJSON",
        "fuzzQuery",
        "generateRandom",
        "generateSeries",
        "generate_series",
        "null",
        "numbers",
        "numbers_mt",
        "primes",
        "values",
        "view",
        "viewExplain",
        "viewIfPermitted",
        "zeros",
        "zeros_mt",
    }
)

# Functions (table functions and a few ordinary ones) that reach files, the network,
# other processes, Python objects or tables named by a string. The host also refuses
# any table function the engine has that is in neither set (see `denied_functions`).
DENIED_FUNCTIONS = frozenset(
    {
        # the local filesystem and this process
        "file",
        "fileCluster",
        "filesystem",
        "input",
        "executable",
        "python",
        "arrowstream",
        "eval",  # runs a query built from a string, out of reach of these checks
        "catboostEvaluate",
        # object stores, lakes and remote services
        "url",
        "urlCluster",
        "s3",
        "s3Cluster",
        "gcs",
        "oss",
        "cosn",
        "hdfs",
        "hdfsCluster",
        "azureBlobStorage",
        "azureBlobStorageCluster",
        "iceberg",
        "icebergAzure",
        "icebergAzureCluster",
        "icebergCluster",
        "icebergHDFS",
        "icebergHDFSCluster",
        "icebergLocal",
        "icebergLocalCluster",
        "icebergS3",
        "icebergS3Cluster",
        "deltaLake",
        "deltaLakeAzure",
        "deltaLakeAzureCluster",
        "deltaLakeCluster",
        "deltaLakeLocal",
        "deltaLakeS3",
        "deltaLakeS3Cluster",
        "hudi",
        "hudiCluster",
        "paimon",
        "paimonAzure",
        "paimonAzureCluster",
        "paimonCluster",
        "paimonHDFS",
        "paimonHDFSCluster",
        "paimonLocal",
        "paimonS3",
        "paimonS3Cluster",
        "bigquery",
        "ytsaurus",
        "prometheusQuery",
        "prometheusQueryRange",
        # other servers and databases
        "remote",
        "remoteSecure",
        "cluster",
        "clusterAllReplicas",
        "mysql",
        "postgresql",
        "jdbc",
        "odbc",
        "sqlite",
        "mongodb",
        "redis",
        # tables or dictionaries named by a string, which the name checks cannot see
        "merge",
        "loop",
        "dictionary",
        "joinGet",
        "joinGetOrNull",
        "mergeTreeIndex",
        "mergeTreeProjection",
        "mergeTreeTextIndex",
        "mergeTreeAnalyzeIndexes",
        "mergeTreeAnalyzeIndexesUUID",
        "mergeTreeCodecBlockCounts",
        "timeSeriesData",
        "timeSeriesMetricFamilies",
        "timeSeriesMetrics",
        "timeSeriesSamples",
        "timeSeriesSelector",
        "timeSeriesTags",
    }
)

# Settings the analyst may not pass in the URL (they are applied before readonly=1):
# another parser dialect, and settings that name files to read or write.
_DENIED_SETTING = re.compile(r"^(dialect|.*format_schema.*|format_template.*)$", re.IGNORECASE)


class ReadOnlyViolation(Exception):
    """A statement or setting the analyst may not use; `code` is ClickHouse's error code."""

    def __init__(self, message: str, code: int = 164, name: str = "READONLY") -> None:
        super().__init__(message)
        self.code = code
        self.name = name


def escape_param(value: str) -> str:
    """A string as a `{name:String}` query parameter: ClickHouse reads binds in TSV escaping."""
    return (
        value.replace("\\", "\\\\")
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
        .replace("\0", "\\0")
    )


def denied_functions(engine_table_functions: Iterable[str]) -> frozenset[str]:
    """DENIED_FUNCTIONS plus any table function of this engine nobody has judged pure."""
    return DENIED_FUNCTIONS | (frozenset(engine_table_functions) - PURE_TABLE_FUNCTIONS)


def check_settings(names: Iterable[str]) -> None:
    for name in names:
        if _DENIED_SETTING.match(name):
            raise ReadOnlyViolation(f"Cannot modify '{name}' setting in readonly mode")


def check(
    statement: str,
    other_databases: Iterable[str],
    denied: Iterable[str],
    binds: Mapping[str, str],
) -> None:
    """Raise ReadOnlyViolation unless `statement` (formatQuerySingleLine's output) only
    reads the popreg database."""
    head = _ALLOWED_STATEMENT.match(statement)
    if head is None:
        verb = statement.split(" ", 1)[0]
        raise ReadOnlyViolation(f"Cannot execute query in readonly mode: {verb} is not a read")
    if head.group(1) == "SHOW" and not _ALLOWED_SHOW.match(statement):
        raise ReadOnlyViolation("Cannot execute query in readonly mode: this SHOW is not allowed")
    if _INTO_OUTFILE.search(statement):
        raise ReadOnlyViolation("Cannot execute query in readonly mode: INTO OUTFILE writes a file")
    names = "|".join(re.escape(name) for name in sorted(denied, key=len, reverse=True))
    called = re.search(rf"(?<![\w$])`?({names})`?\s*\(", statement, re.IGNORECASE)
    if called:
        function = called.group(1)
        raise ReadOnlyViolation(
            f"Cannot execute query in readonly mode: {function}() is not allowed"
        )
    _check_databases(statement, list(other_databases), head.group(1) == "SHOW", binds)


def _check_databases(
    statement: str, other_databases: list[str], is_show: bool, binds: Mapping[str, str]
) -> None:
    """Only popreg's tables (and the handshake's system tables) may be named."""
    if not other_databases:
        return
    alternatives = "|".join(re.escape(db) for db in sorted(other_databases, key=len, reverse=True))
    # The table may also be a `{name:Identifier}` bind, which matches no name here.
    qualified = re.compile(rf"(?<![\w.`])`?({alternatives})`?\.(`[^`]*`|\w+)?", re.IGNORECASE)
    for match in qualified.finditer(statement):
        database, table = match.group(1), (match.group(2) or "").strip("`")
        if database.lower() != "system" or table.lower() not in _ALLOWED_SYSTEM_TABLES:
            _refuse_database(database)
    if is_show:  # SHOW TABLES FROM system, SHOW CREATE DATABASE default...
        bare = re.search(rf"(?<![\w.`])`?({alternatives})`?(?![\w`])", statement, re.IGNORECASE)
        if bare:
            _refuse_database(bare.group(1))
    lowered = {db.lower() for db in other_databases}
    for name in _IDENTIFIER_BIND.findall(statement):
        value = binds.get(name, "")
        if not _PLAIN_NAME.match(value):
            raise ReadOnlyViolation(
                f"Identifier parameter {name} must be a plain name or popreg.<table>",
                code=497,
                name="ACCESS_DENIED",
            )
        if value.split(".")[0].lower() in lowered:
            _refuse_database(value.split(".")[0])


def _refuse_database(database: str) -> None:
    raise ReadOnlyViolation(
        f"Not enough privileges: the analyst reads the {CLICKHOUSE_DATABASE} database only, "
        f"not {database}",
        code=497,
        name="ACCESS_DENIED",
    )
