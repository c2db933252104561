"""One factory for the SparkSession, whoever owns the cluster.

- Databricks: the runtime owns the session and its libraries; we only set what a job needs.
- spark-submit: `spark.master` (and `--packages`) come from the command line; we never override them.
- local mode (laptop, tests): we set master, the Maven packages of the pinned stack, and Delta. Ivy
  resolves the packages once; later sessions load the jar files it resolved (`jar_manifest`).

Example:
    >>> from vigie.session import get_spark
    >>> spark = get_spark(app_name="vigie-demo")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import unquote, urlparse

from vigie import versions
from vigie.config import driver_memory_setting
from vigie.errors import ConfigError

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}

# Logging of local sessions: Spark's default level, without the start-up lines every run printed.
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
LOG4J_NAMES = ("log4j2.properties", "log4j2.xml", "log4j2.yaml", "log4j2.yml", "log4j2.json")

LOCAL_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Spark NLP's annotators are Kryo-registered; its docs ask for Kryo with a large buffer.
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.kryoserializer.buffer.max": "1g",
    "spark.ui.showConsoleProgress": "false",
    "spark.databricks.delta.snapshotPartitions": "2",
}


def on_databricks() -> bool:
    """True inside a Databricks runtime (notebook or job)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def jvm_libraries(needed: Sequence[str] | None = None) -> tuple[str, ...]:
    """JVM libraries to load in local mode: VIGIE_JVM_LIBS (comma list) when set, else `needed` (what
    the work at hand uses, e.g. one stage's `versions.STAGE_JVM_LIBS`), else the whole default set."""
    raw = os.environ.get("VIGIE_JVM_LIBS", "")
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    return keys or tuple(needed or versions.DEFAULT_JVM_LIBS)


def local_conf(
    master: str = "local[*]",
    shuffle_partitions: int = 8,
    ui: bool = False,
    extra: Mapping[str, str] | None = None,
    libraries: Sequence[str] | None = None,
) -> dict[str, str]:
    """The configuration vigie uses for a local session (also what the test fixture uses).

    `libraries` names the JVM libraries to load (see `jvm_libraries`); None loads the default set.
    The user's spark-defaults.conf keeps its say (`USER_KEPT`, `_with_users_java_options`): our settings
    reach the launcher as --conf, which overrides that file key by key.
    """
    ivy = os.environ.get("VIGIE_IVY_DIR", str(Path.home() / ".ivy2"))
    users = user_spark_defaults()
    conf = {
        "spark.master": master,
        "spark.driver.extraJavaOptions": " ".join(("-Duser.timezone=UTC", *_log4j_options(users))),
        "spark.jars.packages": ",".join(versions.maven_packages(jvm_libraries(libraries))),
        "spark.jars.excludes": ",".join(versions.IVY_EXCLUDES),
        "spark.jars.ivy": ivy,
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.ui.enabled": str(ui).lower(),
        # Python workers must run the interpreter that has vigie and the pinned stack installed.
        "spark.pyspark.python": os.environ.get("PYSPARK_PYTHON", sys.executable),
        "spark.sql.warehouse.dir": _cache_warehouse(),
        **LOCAL_DEFAULTS,
        **DELTA_CONF,
    }
    conf = {key: value for key, value in conf.items() if key not in USER_KEPT or key not in users}
    conf.update(_with_users_java_options(conf, users))
    conf.update(extra or {})
    return conf


def _log4j_options(users: Mapping[str, str]) -> tuple[str, ...]:
    """The JVM option that points log4j at vigie's file; none when the user keeps their own: a file in
    Spark's conf folder (the launcher puts it on the classpath, and log4j reads it from there), or an
    option in the spark-defaults.conf `users`."""
    if any(Path(_spark_conf_dir(), name).is_file() for name in LOG4J_NAMES):
        return ()
    if re.search(r"-Dlog4j2?\.configurationFile=", users.get("spark.driver.extraJavaOptions", "")):
        return ()  # the two names log4j 2 reads; another library's (logback's) leaves Spark's logging to us
    return (f"-Dlog4j.configurationFile={LOG4J_CONFIG.as_uri()}",)  # a URI: no space to split the options on


def _cache_warehouse() -> str:
    """Where a local session keeps Spark's warehouse: a folder in the user's cache, not the working one.

    vigie addresses its Delta tables by path and makes no managed table, but Spark creates its warehouse
    folder (by default `spark-warehouse` in the working folder) the first time a query consults the
    catalog, so every run left an empty one wherever it was started.
    """
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(cache, "vigie", "spark-warehouse"))


# Settings of a local session that only tune it: a value in the user's spark-defaults.conf wins over ours.
# The rest of ours stay, as vigie's results or its libraries depend on them (UTC, Kryo for Spark NLP,
# Delta, the pinned jars), or vigie's own configuration sets them (master, shuffle partitions, heap).
USER_KEPT = frozenset(
    {
        "spark.sql.warehouse.dir",
        "spark.ui.enabled",
        "spark.ui.showConsoleProgress",
        "spark.kryoserializer.buffer.max",
        "spark.databricks.delta.snapshotPartitions",
    }
)
JAVA_OPTIONS = ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")


def _with_users_java_options(conf: Mapping[str, str], users: Mapping[str, str]) -> dict[str, str]:
    """Our JVM options after the user's: theirs stay in force, and where both set a property, ours (the
    later one) wins. A user's `-Duser.timezone` would otherwise shift vigie's hours."""
    return {key: f"{users[key]} {conf[key]}" for key in JAVA_OPTIONS if users.get(key) and key in conf}


def user_spark_defaults() -> dict[str, str]:
    """The settings of the spark-defaults.conf that Spark's launcher reads, as it reads them."""
    try:
        text = Path(_spark_conf_dir(), "spark-defaults.conf").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return java_properties(text)


_PROPERTY_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def java_properties(text: str) -> dict[str, str]:
    """A Java properties file's settings, as `java.util.Properties.load` reads them and Spark's launcher
    keeps them (values trimmed): `key value`, `key=value` or `key: value`; `#` and `!` start comments;
    a line ending in an odd number of backslashes goes on in the next one."""
    settings: dict[str, str] = {}
    for line in _logical_lines(text):
        key, value = re.match(r"((?:\\.|[^\\ \t\f=:])*)[ \t\f]*[=:]?[ \t\f]*(.*)", line, re.DOTALL).groups()
        settings[_unescape(key)] = _unescape(value).strip()
    return settings


def _logical_lines(text: str) -> Iterator[str]:
    logical = ""
    for line in re.split(r"\r\n|\r|\n", text):  # Java's line ends, not every one Python knows
        line = line.lstrip(" \t\f")
        if not logical and (not line or line[0] in "#!"):  # as Java 9+ reads: nothing kept yet
            continue
        continued = (len(line) - len(line.rstrip("\\"))) % 2 == 1
        logical += line[:-1] if continued else line
        if not continued:
            yield logical
            logical = ""
    if logical:  # the file ended inside a line
        yield logical


def _unescape(raw: str) -> str:
    def one(match: re.Match[str]) -> str:
        char = match.group(1)
        if char.startswith("u") and len(char) == 5:
            return chr(int(char[1:], 16))
        return _PROPERTY_ESCAPES.get(char, char)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, raw, flags=re.DOTALL)


def _spark_conf_dir() -> str:
    """The folder of Spark's configuration files, where its launcher looks: SPARK_CONF_DIR, else SPARK_HOME/conf."""
    return os.environ.get("SPARK_CONF_DIR") or os.path.join(_spark_home(), "conf")


def _spark_home() -> str:
    """SPARK_HOME, else the pyspark package's folder, as pyspark's launcher takes it."""
    if os.environ.get("SPARK_HOME"):
        return os.environ["SPARK_HOME"]
    spec = importlib.util.find_spec("pyspark")
    return next(iter(spec.submodule_search_locations or ()), "") if spec else ""


@contextmanager
def _loopback(master: str) -> Iterator[None]:
    """Bind a local session's driver to the loopback interface while its JVM starts.

    A local session needs no network: its executors run on this machine. Left alone, Spark binds its
    driver and block manager to the address of the host name, so their ports are open to the network.
    Where the host name resolves to a loopback address (Debian's /etc/hosts does so), Spark takes
    another interface's address instead, and warns of that at every start. SPARK_LOCAL_IP is read
    before any setting (`spark.driver.host` would leave the warning). A value of the user's is kept;
    ours is removed once the JVM has started, and has read it.
    """
    if not master.startswith("local") or "SPARK_LOCAL_IP" in os.environ:
        yield
        return
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    try:
        yield
    finally:
        os.environ.pop("SPARK_LOCAL_IP", None)


# Above about 32 GB the JVM loses compressed object pointers, so a bigger heap holds less.
MAX_AUTO_HEAP = 31 * 2**30


def memory_limit_bytes(cgroup_root: str = "/sys/fs/cgroup") -> int | None:
    """Memory this process may use: the machine's, or its container's limit when lower; None when unknown."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        pass
    for name in ("memory.max", "memory/memory.limit_in_bytes"):  # cgroup v2, then v1
        try:
            text = Path(cgroup_root, name).read_text().strip()
        except OSError:
            continue
        if text.isdigit():  # v2 says "max" when there is no limit
            limits.append(int(text))
    return min(limits) if limits else None


def auto_heap(total: int, divisor: int = 2) -> str:
    """A share of `total` bytes (half by default: what `auto` takes) as a heap size, between 1g and 31g."""
    return f"{min(max(total // divisor, 2**30), MAX_AUTO_HEAP) // 2**20}m"


def local_driver_memory(setting: str, available: int | None = None) -> str | None:
    """The heap of a local session's JVM, as `spark.driver.memory` takes it; None leaves it to Spark.

    A size ("8g", "512m") is used as given. "auto" defers to SPARK_DRIVER_MEMORY or to the
    `spark.driver.memory` of the user's spark-defaults.conf when either is set. Else it takes half the
    memory this process may use (`available`, by default `memory_limit_bytes()`), between 1g and 31g:
    the rest is for the Python workers, LightGBM's native memory and the OS. Spark's own default is
    1g, whatever the machine has.
    """
    value = driver_memory_setting(setting)
    if value != "auto":
        return value
    if os.environ.get("SPARK_DRIVER_MEMORY") or "spark.driver.memory" in user_spark_defaults():
        return None  # the launcher reads both
    total = memory_limit_bytes() if available is None else available
    if total is None:
        return None
    return auto_heap(total)


def get_spark(
    app_name: str = "vigie",
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
    shuffle_partitions: int = 8,
    driver_memory: str | None = None,
    libraries: Sequence[str] | None = None,
):
    """Return the active SparkSession or build one fitting where we run (see module docstring).

    `driver_memory` sizes a local session's JVM heap (`local_driver_memory`: a size, or "auto"); None
    leaves Spark's default of 1g. Under spark-submit and on Databricks the launcher owns it.
    `libraries` names the JVM libraries the caller needs: a new local session loads only those (each
    costs start-up time), and a running or spark-submitted one must have them, else a `ConfigError`
    names the missing jars. With None, a new local session loads the default set, a submitted one is
    checked for Delta only, and a running one is taken as it is.
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    heap = local_driver_memory(driver_memory) if driver_memory is not None else None  # a bad value fails here
    active = SparkSession.getActiveSession()
    if active is not None:
        _require_jars(active.sparkContext._jvm, tuple(libraries or ()))
        return active
    builder = SparkSession.builder.appName(app_name)
    if on_databricks():
        return builder.getOrCreate()

    from pyspark import SparkContext

    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started this driver and its JVM
    if submitted:
        SparkContext._ensure_initialized()  # attach to that JVM so SparkConf sees the command line
    launched = SparkConf()
    launcher_owns_jars = submitted or launched.contains("spark.master")
    if launcher_owns_jars:
        # The cluster (or spark-submit --packages) owns master and jars; jars cannot be added this late,
        # so check for them, Delta first, before configuring its extension (else: a JVM stack trace, then
        # a failure).
        SparkContext._ensure_initialized()
        _require_jars(SparkContext._jvm, ("delta", *(libraries or ())))
        settings = {k: v for k, v in DELTA_CONF.items() if not launched.contains(k)}
        settings.setdefault("spark.sql.session.timeZone", "UTC")
    else:
        settings = local_conf(
            master or os.environ.get("VIGIE_SPARK_MASTER", "local[*]"), shuffle_partitions, libraries=libraries
        )
        if heap:
            settings["spark.driver.memory"] = heap
        # PySpark takes the worker interpreter of SQL Python functions from this variable, not the conf.
        os.environ.setdefault("PYSPARK_PYTHON", settings["spark.pyspark.python"])
    settings.update(conf or {})
    resolving = not launcher_owns_jars and _ivy_resolves(settings) and not _load_cached_jars(settings)
    for key, value in settings.items():
        builder = builder.config(key, value)
    with _loopback("" if launcher_owns_jars else settings["spark.master"]):
        spark = builder.getOrCreate()
    if not launcher_owns_jars:  # a local session: VIGIE_JVM_LIBS may have left a needed library out
        _require_jars(spark.sparkContext._jvm, tuple(libraries or ()))
    if resolving:
        remember_jars(settings, spark.sparkContext.getConf().get("spark.jars", ""))
    return spark


def _ivy_resolves(settings: Mapping[str, str]) -> bool:
    """True when Ivy alone gives the session its jars: packages are set, and no jar files of the user's."""
    return bool(settings.get("spark.jars.packages")) and "spark.jars" not in settings


def jar_manifest(settings: Mapping[str, str]) -> Path:
    """Where a local session records the jar files Ivy resolved for its packages and exclusions."""
    key = f"{settings.get('spark.jars.packages', '')}\n{settings.get('spark.jars.excludes', '')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    ivy = settings.get("spark.jars.ivy") or str(Path.home() / ".ivy2")
    return Path(ivy, "vigie", f"jars-{digest}.txt")


def remember_jars(settings: Mapping[str, str], jars: str) -> bool:
    """Record the jar files (`spark.jars` after Ivy resolved `settings`' packages) for later sessions.

    False when it cannot (a read-only Ivy folder, say): later sessions then resolve with Ivy, as before.
    """
    files = [j for j in jars.split(",") if j]
    if not files:
        return False
    manifest = jar_manifest(settings)
    partial = manifest.with_name(f"{manifest.name}.{os.getpid()}")
    try:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text("\n".join(files) + "\n")
        partial.replace(manifest)  # atomic: a session starting meanwhile reads all of it or none
    except OSError:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        return False
    return True


def cached_jars(settings: Mapping[str, str]) -> str | None:
    """The jar files an earlier local session resolved for the same packages, when every one is still there."""
    try:
        files = jar_manifest(settings).read_text().split()
    except OSError:
        return None
    if not files or not all(Path(unquote(urlparse(f).path)).is_file() for f in files):
        return None
    return ",".join(files)


def _load_cached_jars(settings: dict[str, str]) -> bool:
    """Swap `spark.jars.packages` for the jar files resolved before, when known; True when swapped.

    With packages, every local session asks Ivy to resolve them again, even from its cache: seconds of
    start-up and a report of a hundred lines or more before any work. The files it resolved do not
    change while the pins and exclusions do not (they key the record).
    """
    if not _ivy_resolves(settings):
        return False
    jars = cached_jars(settings)
    if jars is None:
        return False
    del settings["spark.jars.packages"]
    settings["spark.jars"] = jars
    return True


@contextmanager
def sql_conf(spark, settings: Mapping[str, str]) -> Iterator[None]:
    """Set SQL settings for the queries planned inside the block, then restore what the session had.

    Spark reads SQL settings when it plans a query, that is at the action (a write, a collect), so
    the action must run inside the block.
    """
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def resolve_jars() -> list[str]:
    """Start a local session once so Ivy downloads and caches every pinned jar; returns the coordinates."""
    spark = get_spark(app_name="vigie-setup", master="local[1]")
    spark.stop()
    return versions.maven_packages(jvm_libraries())


MARKER_CLASSES = {
    "delta": "io.delta.tables.DeltaTable",
    "synapseml": "com.microsoft.azure.synapse.ml.lightgbm.LightGBMClassifier",
    "sparknlp": "com.johnsnowlabs.nlp.DocumentAssembler",
    "graphframes": "org.graphframes.GraphFrame",
}


LIBRARY_NAMES = {"delta": "Delta Lake", "synapseml": "SynapseML", "sparknlp": "Spark NLP", "graphframes": "GraphFrames"}


def _require_jars(jvm, keys: tuple[str, ...]) -> None:
    """Raise a `ConfigError` naming the libraries among `keys` whose jar `jvm` cannot load."""
    missing = [LIBRARY_NAMES[k] for k in _missing_jars(jvm, dict.fromkeys(keys))]
    if not missing:
        return
    what = f"{missing[0]}'s jar is" if len(missing) == 1 else f"the jars of {', '.join(missing)} are"
    chosen = os.environ.get("VIGIE_JVM_LIBS", "")
    pronoun = "it" if len(missing) == 1 else "them"
    hint = f" VIGIE_JVM_LIBS={chosen!r} leaves {pronoun} out of local sessions." if chosen else ""
    raise ConfigError(
        f"{what[0].upper()}{what[1:]} not on this Spark session's classpath. With spark-submit, pass "
        f"`{submit_flags()}` (the output of `vigie packages`); on a cluster, install the Maven libraries "
        f"listed in databricks.yml.{hint}"
    )


def _class_exists(jvm, name: str) -> bool:
    try:
        jvm.java.lang.Class.forName(name, False, jvm.Thread.currentThread().getContextClassLoader())
        return True
    except Exception:  # py4j wraps ClassNotFoundException
        return False


def _missing_jars(jvm, keys: Iterable[str]) -> list[str]:
    return [key for key in keys if not _class_exists(jvm, MARKER_CLASSES[key])]


def missing_jvm_libraries(spark, keys: tuple[str, ...] = ("delta",)) -> list[str]:
    """Which of the named JVM libraries have no jar on the session's classpath."""
    return _missing_jars(spark.sparkContext._jvm, keys)


def submit_flags() -> str:
    """The spark-submit flags that bring in the pinned jars: `spark-submit $(vigie packages) jobs/ingest.py ...`."""
    return (
        f"--packages {','.join(versions.maven_packages(jvm_libraries()))} "
        f"--exclude-packages {','.join(versions.IVY_EXCLUDES)}"
    )


def executor_cores(spark) -> int:
    """Cores one executor runs tasks on: `spark.executor.cores`, else N of a local[N] master, else 0 (unknown).

    Native libraries that start their own threads (LightGBM) need this: left to themselves, they
    guess from the machine, not from what Spark gave the executor.
    """
    conf = spark.sparkContext.getConf()
    if conf.contains("spark.executor.cores"):
        return int(conf.get("spark.executor.cores"))
    return local_cores(spark.sparkContext.master)


def local_cores(master: str) -> int:
    """N of `local[N]` (`local`: 1, `local[*]`: this machine's cores); 0 for a cluster master."""
    local = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?", master)
    if not local:
        return 0
    n = local.group(1) or "1"
    return (os.cpu_count() or 1) if n == "*" else int(n)
