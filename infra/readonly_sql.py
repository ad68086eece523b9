"""What the analyst user may run, judged on ClickHouse's own parse of the statement.

The engine setting `readonly=1` alone does not make chDB read-only: it still lets
`INTO OUTFILE`, `file()`, `SYSTEM`, `KILL` and several statements in one call through.
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

from schemas.settings import CLICKHOUSE_DATABASE

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

# Settings the analyst may pass in the URL (they are applied before the host's limits
# and readonly=1): how a result is shaped, and limits below the host's own. Everything
# else is refused: `os_thread_priority`, `function_sleep_max_microseconds_per_block`,
# `log_comment` (the host's mark to cancel a query by), another parser dialect,
# settings that name files to read or write...
ANALYST_SETTINGS = frozenset(
    {
        "max_threads",
        "max_block_size",
        "max_execution_time",
        "max_memory_usage",
        "max_result_rows",
        "max_result_bytes",
        "max_rows_to_read",
        "max_bytes_to_read",
        "result_overflow_mode",
        "timeout_overflow_mode",
        "read_overflow_mode",
        "readonly",  # ignored: the host sets readonly=1 last
        "extremes",
        "join_use_nulls",
        "session_timezone",
        "date_time_output_format",
        "date_time_input_format",
        "send_progress_in_http_headers",
        "http_headers_progress_interval_ms",
        "enable_http_compression",
        "http_zlib_compression_level",
    }
)
# Output formats' own settings (`output_format_json_quote_64bit_integers`, CSV's
# delimiter...), except those naming files.
_ANALYST_SETTING_PREFIXES = ("output_format_", "format_csv_", "format_tsv_", "format_custom_")
_FILE_SETTING = re.compile(r"^(dialect|.*format_schema.*|format_template.*)$", re.IGNORECASE)
# The host's limits: an analyst may ask for less, never more (see `limited`).
LIMIT_SETTINGS = frozenset(
    {"max_execution_time", "max_memory_usage", "max_result_rows", "max_result_bytes"}
)
# A KILL QUERY an analyst may send: of one query, by the query_id the client gave it.
OWN_KILL = re.compile(r"^KILL QUERY WHERE query_id = '((?:[^'\\]|\\.)*)'( SYNC| ASYNC)?$")


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
    """Refuse any URL setting of the analyst's outside the allowlist."""
    for name in names:
        allowed = name in ANALYST_SETTINGS or name.startswith(_ANALYST_SETTING_PREFIXES)
        if not allowed or _FILE_SETTING.match(name):
            raise ReadOnlyViolation(f"Cannot modify '{name}' setting in readonly mode")


def handshake(statement: str) -> str:
    """The client's handshake (`HANDSHAKE`) answered with `readonly` = 1 for every setting
    outside the allowlist: clickhouse-connect then sends none of those (it adds
    `cast_string_to_dynamic_use_inference` and others of its own when they look writable)
    and keeps sending the allowed ones."""
    names = ", ".join(f"'{name}'" for name in sorted(ANALYST_SETTINGS))
    prefixes = " OR ".join(f"startsWith(name, '{p}')" for p in _ANALYST_SETTING_PREFIXES)
    allowed = f"(name IN ({names}) OR {prefixes}) AND NOT match(name, '{_FILE_SETTING.pattern}')"
    return statement.replace(
        "SELECT name, value, readonly FROM",
        f"SELECT name, value, toUInt8(readonly OR NOT ({allowed})) AS readonly FROM",
        1,
    )


def limited(settings: Mapping[str, str], limits: Mapping[str, int | float]) -> dict[str, str]:
    """The analyst's settings with each of the host's `limits` (max_execution_time...)
    set to the smaller of the two: an analyst may lower a limit, never raise it (a 0,
    ClickHouse's "unlimited", is taken as the host's limit)."""
    found = dict(settings)
    for name, limit in limits.items():
        given = found.get(name)
        try:
            asked = float(given) if given is not None else 0.0
        except ValueError:
            raise ReadOnlyViolation(
                f"Setting {name} must be a number", code=36, name="BAD_ARGUMENTS"
            ) from None
        value = min(asked, limit) if asked > 0 else limit
        found[name] = str(int(value)) if float(value).is_integer() else str(value)
    return found


def own_kill(statement: str) -> str | None:
    """The query_id of `KILL QUERY WHERE query_id = '...'`, or None for another statement."""
    found = OWN_KILL.match(statement)
    if found is None:
        return None
    return re.sub(r"\\(.)", r"\1", found.group(1))


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
    _check_databases(
        statement, list(other_databases), head.group(1) == "SHOW", binds, _ALLOWED_SYSTEM_TABLES
    )


def _check_databases(
    statement: str,
    other_databases: list[str],
    is_show: bool,
    binds: Mapping[str, str],
    system_tables: frozenset[str],
    who: str = "the analyst reads",
) -> None:
    """Only popreg's tables (and `system_tables` of `system`) may be named."""
    if not other_databases:
        return
    alternatives = "|".join(re.escape(db) for db in sorted(other_databases, key=len, reverse=True))
    # The table may also be a `{name:Identifier}` bind, which matches no name here.
    qualified = re.compile(rf"(?<![\w.`])`?({alternatives})`?\.(`[^`]*`|\w+)?", re.IGNORECASE)
    for match in qualified.finditer(statement):
        database, table = match.group(1), (match.group(2) or "").strip("`")
        if database.lower() != "system" or table.lower() not in system_tables:
            _refuse_database(database, who)
    if is_show:  # SHOW TABLES FROM system, SHOW CREATE DATABASE default...
        bare = re.search(rf"(?<![\w.`])`?({alternatives})`?(?![\w`])", statement, re.IGNORECASE)
        if bare:
            _refuse_database(bare.group(1), who)
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
            _refuse_database(value.split(".")[0], who)


def _refuse_database(database: str, who: str = "the analyst reads") -> None:
    raise ReadOnlyViolation(
        f"Not enough privileges: {who} the {CLICKHOUSE_DATABASE} database only, not {database}",
        code=497,
        name="ACCESS_DENIED",
    )


# --- the writer ------------------------------------------------------------------------

# What popreg's own writes need (grep for writer_client): reads, INSERT, DDL on its
# database (and a SQL function, `popregStockDay`, whose body the function check reads),
# OPTIMIZE, TRUNCATE/EXCHANGE/RENAME, DELETE. No SYSTEM, KILL, SET, USE, ATTACH/DETACH,
# BACKUP/RESTORE, GRANT, dictionaries or named collections.
_WRITER_STATEMENT = re.compile(
    r"^\(*\s*(SELECT|WITH|SHOW|DESCRIBE|EXISTS|EXPLAIN|CHECK TABLE|INSERT INTO|CREATE"
    r"|DROP (TABLE|VIEW)|ALTER TABLE|TRUNCATE|EXCHANGE TABLES|RENAME TABLE|OPTIMIZE TABLE"
    r"|DELETE FROM)\b"
)
_READ_STATEMENT = re.compile(r"^\(*\s*(SELECT|WITH|SHOW|DESCRIBE|EXISTS|EXPLAIN|CHECK)\b")
_WRITER_CREATE = re.compile(
    r"^CREATE (OR REPLACE )?(TABLE|VIEW|MATERIALIZED VIEW|FUNCTION)\b"
    rf"|^CREATE DATABASE (IF NOT EXISTS )?{CLICKHOUSE_DATABASE}( ENGINE = Atomic)?$"
)
_FROM_INFILE = re.compile(r"\bFROM\s+INFILE\b", re.IGNORECASE)
_INSERT_FUNCTION = re.compile(r"^INSERT INTO (TABLE )?FUNCTION\b")
_ENGINE = re.compile(r"\bENGINE\s*=\s*`?(\w+)", re.IGNORECASE)
# Engines that keep their data in the table's own directory and read no other table by
# name: not File, URL, S3, MySQL, Distributed, Merge, Buffer, Dictionary, Kafka...
_LOCAL_ENGINE = re.compile(
    r"^(\w*MergeTree|Memory|Null|Log|TinyLog|StripeLog|Set|Join|View|MaterializedView)$"
)
# Settings that name files, or make INSERT data run expressions (`VALUES (file('x'))`),
# refused in the writer's URL and statements alike; the host also sets the last two to 0.
WRITER_DENIED_SETTINGS = re.compile(
    r"\b(dialect|\w*format_schema\w*|format_template\w*"
    r"|input_format_values_interpret_expressions"
    r"|input_format_values_deduce_templates_of_expressions)\b",
    re.IGNORECASE,
)
# Besides the analyst's: dynamic disks (`SETTINGS disk = disk(type = local, path = '/')`)
# put a table's files anywhere.
WRITER_EXTRA_DENIED = frozenset({"disk"})


def check_writer(
    statement: str,
    other_databases: Iterable[str],
    denied: Iterable[str],
    binds: Mapping[str, str],
) -> None:
    """Raise ReadOnlyViolation (as ACCESS_DENIED) unless `statement` (formatQuerySingleLine's
    output; for an INSERT with inline data, its head up to FORMAT) is one popreg's writer
    needs: it reads popreg and system, and writes popreg only, with no table function,
    engine or setting that reaches files, the network or other processes."""
    if _WRITER_STATEMENT.match(statement) is None:
        verb = " ".join(statement.split(" ", 2)[:2])
        _refuse_writer(f"{verb} is not among the statements popreg writes with")
    if statement.startswith("CREATE") and _WRITER_CREATE.match(statement) is None:
        _refuse_writer(
            f"the writer creates tables, views and SQL functions in {CLICKHOUSE_DATABASE} only"
        )
    if _INSERT_FUNCTION.match(statement):
        _refuse_writer("INSERT INTO FUNCTION writes outside popreg's tables")
    if _FROM_INFILE.search(statement):
        _refuse_writer("FROM INFILE reads a file of the server's")
    if _INTO_OUTFILE.search(statement):
        _refuse_writer("INTO OUTFILE writes a file of the server's")
    for engine in _ENGINE.findall(statement):
        if _LOCAL_ENGINE.match(engine) is None:
            _refuse_writer(f"engine {engine} is not allowed")
    setting = WRITER_DENIED_SETTINGS.search(statement)
    if setting:
        _refuse_writer(f"setting {setting.group(1)} is not allowed")
    names = "|".join(re.escape(name) for name in sorted(denied, key=len, reverse=True))
    called = re.search(rf"(?<![\w$])`?({names})`?\s*\(", statement, re.IGNORECASE)
    if called:
        _refuse_writer(f"{called.group(1)}() is not allowed")
    reads = _READ_STATEMENT.match(statement) is not None
    others = [db for db in other_databases if not (reads and db.lower() == "system")]
    _check_databases(
        statement,
        others,
        statement.startswith("SHOW"),
        binds,
        frozenset(),
        "the writer writes" if not reads else "the writer reads system and",
    )


def check_writer_settings(names: Iterable[str]) -> None:
    for name in names:
        if WRITER_DENIED_SETTINGS.fullmatch(name):
            _refuse_writer(f"setting {name} is not allowed")


def _refuse_writer(reason: str) -> None:
    raise ReadOnlyViolation(f"Not enough privileges: {reason}", code=497, name="ACCESS_DENIED")
