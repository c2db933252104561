"""Configuration parsing and the single place where the stack is pinned."""

from __future__ import annotations

import importlib.metadata
import os
import re
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from pyspark.errors import PythonException

from vigie import versions
from vigie.config import Config, as_dict, load_config
from vigie.errors import ConfigError
from vigie.session import (
    DELTA_CONF,
    LOG4J_CONFIG,
    _load_cached_jars,
    _loopback,
    get_spark,
    jar_manifest,
    java_properties,
    local_conf,
    local_driver_memory,
    memory_limit_bytes,
    remember_jars,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _pyproject(table: str = "project") -> dict:
    """A table of pyproject.toml, [project] by default."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())[table]


def test_shipped_conf_file_matches_the_code_defaults():
    assert as_dict(load_config(str(ROOT / "conf" / "vigie.yaml"))) == as_dict(Config())


def test_overrides_are_typed():
    cfg = load_config(
        str(ROOT / "conf" / "vigie.yaml"), ["ingest.split_mb=16", "generate.format=v2", "spark.master=local[1]"]
    )
    assert (cfg.ingest.split_mb, cfg.generate.format, cfg.spark.master) == (16, "v2", "local[1]")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("ingest.nope=1", "unknown setting ingest.nope"),
        ("nope.x=1", "unknown configuration section 'nope'"),
        ("ingest.split_mb=big", "ingest.split_mb must be a int, got 'big'"),
        ("split_mb=3", "--set takes section.key=value"),
        ("spark.driver_memory=lots", "spark.driver_memory must be a size such as 8g or 512m, or auto; got 'lots'"),
        ("spark.driver_memory=8 g", "spark.driver_memory must be a size"),
    ],
)
def test_bad_overrides_name_the_problem(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_local_driver_heap_is_half_the_memory_within_bounds_unless_set(monkeypatch):
    monkeypatch.delenv("SPARK_DRIVER_MEMORY", raising=False)
    gib = 2**30
    assert local_driver_memory("auto", available=16 * gib) == "8192m"
    assert local_driver_memory("auto", available=gib) == "1024m"  # never below Spark's own default
    assert local_driver_memory("auto", available=256 * gib) == "31744m"  # compressed object pointers
    assert local_driver_memory(" 6G ") == "6g"  # a size is taken as given
    monkeypatch.setenv("SPARK_DRIVER_MEMORY", "5g")
    assert local_driver_memory("auto", available=16 * gib) is None  # Spark's launcher reads the variable
    assert local_driver_memory("2g") == "2g"  # the configured size still wins, as spark.driver.memory does


def test_memory_limit_is_the_container_limit_when_lower(tmp_path):
    machine = memory_limit_bytes(str(tmp_path / "no-cgroup"))
    assert machine and machine > 2**30
    (tmp_path / "memory.max").write_text("max\n")  # cgroup v2 without a limit
    assert memory_limit_bytes(str(tmp_path)) == machine
    (tmp_path / "memory.max").write_text(f"{2**30}\n")
    assert memory_limit_bytes(str(tmp_path)) == 2**30
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text(f"{machine * 4}\n")  # v1 says "none" with a huge number
    assert memory_limit_bytes(str(v1)) == machine


def test_missing_conf_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(str(tmp_path / "missing.yaml"))


def test_pyproject_pins_the_same_versions_as_the_versions_module():
    project = _pyproject()
    deps = project["dependencies"] + project["optional-dependencies"]["spark"]
    pinned = dict(d.split("==") for d in deps if "==" in d)
    assert pinned == versions.PIP_PINS


def test_installed_stack_matches_the_pins():
    assert versions.check_stack() == []


def _locked(environment: dict[str, str]) -> dict[str, str]:
    """The lock's pins (constraints.txt) that apply in `environment`, by canonical name."""
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        req = Requirement(line)
        if req.marker and not req.marker.evaluate(environment):
            continue
        name = canonicalize_name(req.name)
        assert name not in pins, f"constraints.txt pins {name} twice for Python {environment['python_full_version']}"
        (spec,) = req.specifier
        assert spec.operator == "==", f"constraints.txt must pin exact versions: {line}"
        pins[name] = spec.version
    return pins


# `make setup` alone re-installs after a change of the lock, not after a package installed by hand
REINSTALL = "rm .venv/.installed && make setup"


def _python(minor: str) -> dict[str, str]:
    return {**default_environment(), "python_version": minor, "python_full_version": f"{minor}.0"}


def test_the_lock_pins_every_dependency_within_its_range_for_each_python_the_project_supports():
    project = _pyproject()
    extras = project["optional-dependencies"]
    build = _pyproject("build-system")["requires"]
    wanted = [Requirement(r) for r in project["dependencies"] + extras["spark"] + extras["dev"] + build]
    supported = [m for m in (f"3.{n}" for n in range(8, 16)) if f"{m}.0" in SpecifierSet(project["requires-python"])]
    assert supported, "requires-python admits no Python 3 minor version"
    for minor in supported:
        env = _python(minor)
        pins = _locked(env)
        for req in wanted:
            if req.marker and not req.marker.evaluate(env):
                continue
            name = canonicalize_name(req.name)
            assert name in pins, f"constraints.txt has no pin of {req.name} for Python {minor}: run `make lock`"
            assert pins[name] in req.specifier, (
                f"constraints.txt pins {req.name}=={pins[name]} for Python {minor}, outside pyproject's "
                f"{req}: run `make lock`"
            )


def test_the_environment_runs_the_locked_versions():
    locked = _locked(default_environment())
    installed = {name: versions.installed_version(name) for name in locked}
    wrong = {name: (version, installed[name]) for name, version in locked.items() if installed[name] != version}
    assert wrong == {}, f"installed versions differ from constraints.txt (locked, installed): run `{REINSTALL}`"


def test_vigie_was_built_with_the_locked_setuptools():
    """pip builds vigie in an isolated environment; without the lock there, it takes the newest setuptools."""
    wheel = importlib.metadata.distribution("vigie").read_text("WHEEL") or ""
    generator = re.search(r"^Generator: setuptools \(([^)]+)\)$", wheel, re.MULTILINE)
    assert generator, f"vigie's WHEEL names no setuptools build: {wheel!r}"
    locked = _locked(default_environment())["setuptools"]
    assert generator[1] == locked, f"vigie was built with setuptools {generator[1]}, locked {locked}: run `{REINSTALL}`"


def test_maven_coordinates_follow_the_installed_pip_versions():
    coords = versions.maven_packages(["delta", "synapseml", "sparknlp", "graphframes"])
    assert coords == [
        f"io.delta:delta-spark_2.12:{versions.installed_version('delta-spark')}",
        f"com.microsoft.azure:synapseml-core_2.12:{versions.installed_version('synapseml')}",
        f"com.microsoft.azure:synapseml-lightgbm_2.12:{versions.installed_version('synapseml')}",
        f"com.johnsnowlabs.nlp:spark-nlp_2.12:{versions.installed_version('spark-nlp')}",
        f"io.graphframes:graphframes-spark3_2.12:{versions.installed_version('graphframes-py')}",
    ]
    with pytest.raises(ValueError, match="unknown JVM libraries"):
        versions.maven_packages(["nope"])


def test_a_stage_loads_only_the_jvm_libraries_it_uses_unless_the_user_names_them(monkeypatch):
    def packages(libraries):
        return local_conf("local[1]", libraries=libraries)["spark.jars.packages"].split(",")

    monkeypatch.delenv("VIGIE_JVM_LIBS", raising=False)
    assert packages(versions.STAGE_JVM_LIBS["ingest"]) == versions.maven_packages(["delta"])
    assert packages(versions.STAGE_JVM_LIBS["bots"]) == versions.maven_packages(["delta", "synapseml"])
    assert packages(versions.STAGE_JVM_LIBS["anomalies"]) == versions.maven_packages(versions.DEFAULT_JVM_LIBS)
    assert packages(None) == versions.maven_packages(versions.DEFAULT_JVM_LIBS)
    monkeypatch.setenv("VIGIE_JVM_LIBS", "delta,graphframes")  # e.g. a machine that has GraphFrames
    assert packages(versions.STAGE_JVM_LIBS["ingest"]) == versions.maven_packages(["delta", "graphframes"])


def test_a_local_session_loads_the_jars_resolved_before_for_the_same_pins(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_IVY_DIR", str(tmp_path / "ivy"))
    monkeypatch.delenv("VIGIE_JVM_LIBS", raising=False)
    jars = [tmp_path / "ivy" / "jars" / name for name in ("io.delta_delta-spark_2.12-3.3.2.jar", "a b.jar")]
    for jar in jars:
        jar.parent.mkdir(parents=True, exist_ok=True)
        jar.write_bytes(b"PK")
    bots = local_conf("local[1]", libraries=versions.STAGE_JVM_LIBS["bots"])
    assert not _load_cached_jars(dict(bots))  # nothing resolved yet: Ivy resolves the packages

    assert remember_jars(bots, ",".join(jar.as_uri() for jar in jars))
    settings = dict(bots)
    assert _load_cached_jars(settings)
    assert "spark.jars.packages" not in settings
    assert settings["spark.jars"] == ",".join(jar.as_uri() for jar in jars)

    other = dict(local_conf("local[1]", libraries=versions.STAGE_JVM_LIBS["ingest"]))
    assert not _load_cached_jars(other)  # other pins, other files
    assert jar_manifest(other) != jar_manifest(bots)
    assert jar_manifest({**bots, "spark.jars.excludes": ""}) != jar_manifest(bots)
    own = {**bots, "spark.jars": "file:///mine.jar"}
    assert not _load_cached_jars(own) and own["spark.jars"] == "file:///mine.jar"  # the user's jars win

    jars[1].unlink()  # a cleaned cache: resolve again rather than start without a jar
    settings = dict(bots)
    assert not _load_cached_jars(settings) and "spark.jars" not in settings

    (tmp_path / "read-only").write_text("")  # an Ivy folder vigie cannot write to: no record, no error
    assert not remember_jars({**bots, "spark.jars.ivy": str(tmp_path / "read-only")}, jars[0].as_uri())


def test_the_test_session_runs_on_the_jars_its_manifest_records(spark):
    """Either this session read the manifest, or it resolved the packages and wrote it: both agree."""
    settings = local_conf(spark.sparkContext.master)
    recorded = jar_manifest(settings).read_text().split()
    assert recorded == spark.sparkContext.getConf().get("spark.jars").split(",")
    assert any("delta-spark_2.12" in jar for jar in recorded)


def test_sparks_python_workers_fail_on_vigies_deprecation_warnings_as_pytest_does(spark):
    """A pandas UDF runs in Spark's Python workers, outside pytest's filters: conftest.py hands them on."""

    def warned_from(module):
        def udf(batches):
            import warnings

            for batch in batches:
                warnings.warn_explicit("an API vigie uses is going", DeprecationWarning, "u.py", 1, module=module)
                yield batch

        return spark.range(3).mapInPandas(udf, "id long").collect()

    with pytest.raises(PythonException, match="DeprecationWarning: an API vigie uses is going"):
        warned_from("vigie.features.bots")
    assert len(warned_from("pandas")) == 3  # a dependency's own deprecations stay its business


def test_local_sessions_log_through_vigies_log4j_file_unless_the_user_keeps_one(spark, tmp_path, monkeypatch):
    # the test session was built from local_conf: its JVM read the file
    logger = spark.sparkContext._jvm.org.apache.logging.log4j.LogManager.getLogger
    assert logger("org.apache.hadoop.util.NativeCodeLoader").getLevel().toString() == "ERROR"

    monkeypatch.delenv("SPARK_CONF_DIR", raising=False)
    monkeypatch.delenv("SPARK_HOME", raising=False)
    options = local_conf("local[1]")["spark.driver.extraJavaOptions"].split()
    assert options == ["-Duser.timezone=UTC", f"-Dlog4j.configurationFile={LOG4J_CONFIG.as_uri()}"]
    assert LOG4J_CONFIG.is_file()

    # a file of the user's where Spark's launcher looks (SPARK_CONF_DIR, else SPARK_HOME/conf) wins
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "log4j2.xml").write_text("<Configuration/>")
    (tmp_path / "home" / "conf").mkdir(parents=True)
    (tmp_path / "home" / "conf" / "log4j2.properties").write_text("rootLogger.level = info")
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path / "mine"))
    assert local_conf("local[1]")["spark.driver.extraJavaOptions"] == "-Duser.timezone=UTC"
    monkeypatch.setenv("SPARK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))  # no file there: the launcher ignores SPARK_HOME/conf
    assert "log4j.configurationFile" in local_conf("local[1]")["spark.driver.extraJavaOptions"]
    monkeypatch.delenv("SPARK_CONF_DIR")
    assert local_conf("local[1]")["spark.driver.extraJavaOptions"] == "-Duser.timezone=UTC"


def test_local_sessions_keep_sparks_warehouse_in_the_users_cache_unless_spark_defaults_sets_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_HOME", raising=False)
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    warehouse = str(tmp_path / "cache" / "vigie" / "spark-warehouse")
    assert local_conf("local[1]")["spark.sql.warehouse.dir"] == warehouse
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert local_conf("local[1]")["spark.sql.warehouse.dir"] == str(Path.home() / ".cache/vigie/spark-warehouse")

    # spark-defaults.conf is a Java properties file: a comment does not set the key, `key value` and `key=value` do
    defaults = tmp_path / "spark-defaults.conf"
    defaults.write_text("# spark.sql.warehouse.dir /old\nspark.sql.warehouse.dirs /other\n")
    assert "spark.sql.warehouse.dir" in local_conf("local[1]")
    for line in ("spark.sql.warehouse.dir   /data/warehouse", "  spark.sql.warehouse.dir=/data/warehouse"):
        defaults.write_text(f"spark.master local[2]\n{line}\n")
        assert "spark.sql.warehouse.dir" not in local_conf("local[1]")  # the launcher applies the user's


PROPERTIES_FILES = [
    "# comment\n! comment too\n\n  spark.a   1  \nspark.b=2\nspark.c : x\\\n   y\n",
    "spark.d\\ e = \\u0041\\t\\=z\nspark.e\\\\\nspark.f\n\\\n#not a comment\n",
    "key=a\\\n#the value goes on\\\n\nnext:b\r\nwin\\\r\n\tdows\rold=mac\fform=feed\n=no key\n",
    "spark.master local[2]\nspark.master local[4]\ntab\tsep\nends.in=a\\",
    "\\\n\n#x y\nz 1\nonly.key   \nk:v\nsp\\u0061rk.g = \\\\\\\\ \na\\\n\n b 2\n",
]


@pytest.mark.parametrize("text", PROPERTIES_FILES)
def test_spark_defaults_is_read_as_javas_properties_reader_reads_it(spark, text):
    jvm = spark.sparkContext._jvm
    props = jvm.java.util.Properties()
    props.load(jvm.java.io.StringReader(text))
    java = {key: props.getProperty(key).strip() for key in props.stringPropertyNames()}  # Spark trims values
    assert java_properties(text) == java and len(java) >= 3


def test_local_sessions_leave_the_users_spark_defaults_what_only_tunes_a_run(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_HOME", raising=False)
    monkeypatch.delenv("SPARK_DRIVER_MEMORY", raising=False)
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    ours = local_conf("local[1]")
    (tmp_path / "spark-defaults.conf").write_text(
        "spark.ui.enabled true\nspark.ui.showConsoleProgress=true\nspark.kryoserializer.buffer.max 2g\n"
        "spark.sql.session.timeZone Europe/Paris\nspark.serializer org.apache.spark.serializer.JavaSerializer\n"
        "spark.sql.shuffle.partitions 200\nspark.driver.memory 5g\n"
        "spark.driver.extraJavaOptions -XX:+UseZGC -Duser.timezone=Europe/Paris\n"
    )
    conf = local_conf("local[1]")
    # the launcher applies the user's value of a setting we leave out
    assert {"spark.ui.enabled", "spark.ui.showConsoleProgress", "spark.kryoserializer.buffer.max"}.isdisjoint(conf)
    # vigie's results and libraries depend on these, and vigie's own settings size the run
    for key in ("spark.sql.session.timeZone", "spark.serializer", "spark.sql.shuffle.partitions", *DELTA_CONF):
        assert conf[key] == ours[key]
    # the user's JVM options stay in force; ours come after them, so the later UTC wins
    options = conf["spark.driver.extraJavaOptions"].split()
    assert options[:2] == ["-XX:+UseZGC", "-Duser.timezone=Europe/Paris"]
    assert options[2:] == ours["spark.driver.extraJavaOptions"].split()
    # `auto` leaves the heap to the user's spark.driver.memory; a size set for vigie still wins
    assert local_driver_memory("auto", available=16 * 2**30) is None
    assert local_driver_memory("2g") == "2g"
    # a log4j configuration of the user's, given as a JVM option, is theirs to keep
    (tmp_path / "spark-defaults.conf").write_text("spark.driver.extraJavaOptions -Dlog4j2.configurationFile=/x.xml\n")
    options = local_conf("local[1]")["spark.driver.extraJavaOptions"]
    assert options == "-Dlog4j2.configurationFile=/x.xml -Duser.timezone=UTC"
    (tmp_path / "spark-defaults.conf").write_text("spark.driver.extraJavaOptions -Dlogback.configurationFile=/y.xml\n")
    assert "-Dlog4j.configurationFile=" in local_conf("local[1]")["spark.driver.extraJavaOptions"]  # not log4j's


def test_local_sessions_keep_deltas_guard_against_vacuuming_the_versions_runs_record(spark, tmp_path):
    """Model runs log the Delta versions of their inputs; a VACUUM under the 7-day retention would delete
    their files. Delta refuses one unless the session turns its check off, which vigie's must not do."""
    from delta.tables import DeltaTable

    path = str(tmp_path / "table")
    spark.range(3).write.format("delta").save(path)
    spark.range(2).write.format("delta").mode("overwrite").save(path)
    with pytest.raises(Exception, match="retentionDurationCheck"):
        DeltaTable.forPath(spark, path).vacuum(0)
    assert spark.read.format("delta").option("versionAsOf", 0).load(path).count() == 3


def test_a_local_jvm_starts_on_loopback_and_leaves_the_environment_as_it_was(monkeypatch):
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)
    with _loopback("local[2]"):
        assert os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert "SPARK_LOCAL_IP" not in os.environ
    with _loopback("spark://head:7077"):  # a cluster's driver must be reachable from its executors
        assert "SPARK_LOCAL_IP" not in os.environ
    monkeypatch.setenv("SPARK_LOCAL_IP", "10.0.0.5")  # the user's choice
    with _loopback("local[2]"):
        assert os.environ["SPARK_LOCAL_IP"] == "10.0.0.5"
    assert os.environ["SPARK_LOCAL_IP"] == "10.0.0.5"


def test_a_session_without_a_needed_jar_says_which_before_any_work(spark, monkeypatch):
    monkeypatch.delenv("VIGIE_JVM_LIBS", raising=False)
    assert get_spark(libraries=versions.STAGE_JVM_LIBS["anomalies"]) is spark
    missing = r"^GraphFrames's jar is not on this Spark session's classpath\. .*--packages io\.delta"
    with pytest.raises(ConfigError, match=missing):
        get_spark(libraries=("delta", "graphframes"))


def test_databricks_bundle_pins_the_same_jars_and_calls_the_cli():
    import yaml

    job = yaml.safe_load((ROOT / "resources" / "vigie.job.yml").read_text())["resources"]["jobs"]["vigie_ingest"]
    libs = job["tasks"][0]["libraries"]
    maven = [lib["maven"]["coordinates"] for lib in libs if "maven" in lib]
    assert maven == versions.maven_packages(["synapseml", "sparknlp"])  # Delta comes with the runtime
    task = job["tasks"][0]["python_wheel_task"]
    scripts = _pyproject()["scripts"]
    assert task["entry_point"] in scripts and task["parameters"][0] == "ingest"
    bundle = yaml.safe_load((ROOT / "databricks.yml").read_text())
    assert {"dev", "prod"} <= set(bundle["targets"])


@pytest.mark.parametrize("stage", ["anomalies", "communities", "bots", "pipeline"])
def test_every_model_stage_takes_a_tracking_uri_on_the_command_line(stage):
    from vigie.cli import configure

    _, cfg = configure([stage, "--lakehouse", "lake", "--tracking-uri", "http://127.0.0.1:5000"])
    assert cfg.mlflow.tracking_uri == "http://127.0.0.1:5000"
    _, default = configure([stage, "--lakehouse", "lake"])
    assert default.mlflow.tracking_uri != "http://127.0.0.1:5000"


def test_tracking_goes_where_the_user_runs(monkeypatch, tmp_path):
    from vigie.config import MlflowConfig
    from vigie.tracking import experiment_name, tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    assert tracking_uri(MlflowConfig(), str(tmp_path)) == f"file://{tmp_path}/mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri(MlflowConfig(), str(tmp_path)) == "http://127.0.0.1:5000"
    assert tracking_uri(MlflowConfig(tracking_uri="sqlite:///x.db"), str(tmp_path)) == "sqlite:///x.db"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "15.4")
    assert tracking_uri(MlflowConfig(), "/Volumes/main/vigie/lake") == "databricks"
    assert experiment_name(MlflowConfig(experiment="vigie"), "databricks") == "/Shared/vigie"
    assert experiment_name(MlflowConfig(experiment="vigie"), "file:///x") == "vigie"


@pytest.mark.parametrize("lakehouse", ["dbfs:/lake", "s3a://bucket/lake", "abfss://c@acct.dfs.core.windows.net/lake"])
def test_a_uri_lakehouse_needs_a_tracking_uri_and_says_so_before_the_work(monkeypatch, lakehouse):
    # MLflow cannot keep runs on dbfs:, S3 or ADLS paths; "file://dbfs:/lake/mlruns" used to be the result
    from vigie.bots import run_bots
    from vigie.config import BotsConfig, MlflowConfig
    from vigie.tracking import tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    with pytest.raises(ConfigError, match=r"mlflow\.tracking_uri"):
        tracking_uri(MlflowConfig(), lakehouse)
    with pytest.raises(ConfigError, match=r"mlflow\.tracking_uri"):
        run_bots(None, lakehouse, BotsConfig(), MlflowConfig())  # no session needed: nothing ran
    assert tracking_uri(MlflowConfig(tracking_uri="http://127.0.0.1:5000"), lakehouse) == "http://127.0.0.1:5000"
    assert tracking_uri(MlflowConfig(), "file:///srv/lake") == "file:///srv/lake/mlruns"


def test_the_pipeline_checks_its_tracking_uri_before_any_stage(monkeypatch, tmp_path, capsys):
    from vigie.cli import main

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["pipeline", "--lakehouse", "s3a://bucket/lake", "--demo"]) == 2
    assert "mlflow.tracking_uri" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no demo dump generated into a local 's3a:' folder
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file://{tmp_path}/mlruns")
    assert main(["pipeline", "--lakehouse", "s3a://bucket/lake", "--demo"]) == 2
    assert "--demo writes its dump" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_pipeline_checks_the_bots_settings_before_any_stage(spark, monkeypatch, tmp_path, capsys):
    from vigie.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file://{tmp_path}/mlruns")
    lake = tmp_path / "lake"
    assert main(["pipeline", "--lakehouse", str(lake), "--demo", "--set", "bots.label_regex=(_bot"]) == 2
    assert "bots.label_regex '(_bot' is not a valid regular expression" in capsys.readouterr().err
    assert not lake.exists()  # no dump generated, nothing ingested: the bots stage would have failed at the end


def test_tables_named_by_the_user_resolve_under_the_lakehouse_unless_absolute():
    from vigie.tables import resolve

    assert resolve("/srv/lake", "labels/tweets") == "/srv/lake/labels/tweets"
    assert resolve("dbfs:/lake", "labels") == "dbfs:/lake/labels"
    for absolute in ("/data/labels", "dbfs:/shared/labels", "s3a://bucket/labels", "file:///data/labels"):
        assert resolve("/srv/lake", absolute) == absolute  # dbfs: was taken for a relative name
