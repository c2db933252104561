"""The one place where vigie's stack is pinned: Python packages and the JVM jars that go with them.

Each JVM library ships its Python wrapper on PyPI and its jar on Maven Central. The two must match,
so the Maven coordinates are derived from the installed pip versions, and `check_stack()` says
exactly what is wrong when they do not (instead of a ClassNotFoundException deep in a job).

Example:
    >>> from vigie.versions import maven_packages
    >>> maven_packages(["delta"])  # doctest: +SKIP
    ['io.delta:delta-spark_2.12:3.3.2']
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

SCALA = "2.12"
SPARK_LINE = "3.5"
JAVA_MAJOR = 17

# Exact pins, also written in pyproject.toml (a test checks the two agree).
PIP_PINS: dict[str, str] = {
    "pyspark": "3.5.6",
    "delta-spark": "3.3.2",
    "synapseml": "1.1.3",
    # Spark NLP 6.x jars are not on the Maven Central reachable here (its index stops at 5.5.3);
    # 5.5.3 is the newest release for Spark 3.5 that is, and has every rule-based annotator we use.
    "spark-nlp": "5.5.3",
    # No io.graphframes jar at all is reachable here; kept pinned so a cluster that has the jar works.
    "graphframes-py": "0.12.1",
    "mlflow": "3.5.1",
}


@dataclass(frozen=True)
class JvmLibrary:
    """A JVM library whose jar version must equal a pip package's version."""

    key: str
    pip_name: str
    maven: tuple[str, ...]  # "group:artifact" pairs; the version comes from pip

    def coordinates(self) -> list[str]:
        version = installed_version(self.pip_name) or PIP_PINS[self.pip_name]
        return [f"{ga}:{version}" for ga in self.maven]


JVM_LIBRARIES: dict[str, JvmLibrary] = {
    lib.key: lib
    for lib in (
        JvmLibrary("delta", "delta-spark", (f"io.delta:delta-spark_{SCALA}",)),
        JvmLibrary(
            "synapseml",
            "synapseml",
            (f"com.microsoft.azure:synapseml-core_{SCALA}", f"com.microsoft.azure:synapseml-lightgbm_{SCALA}"),
        ),
        JvmLibrary("sparknlp", "spark-nlp", (f"com.johnsnowlabs.nlp:spark-nlp_{SCALA}",)),
        JvmLibrary("graphframes", "graphframes-py", (f"io.graphframes:graphframes-spark3_{SCALA}",)),
    )
}

# Libraries whose jars resolve from the Maven Central this project can reach. GraphFrames is not among
# them here (see README, "Known gaps"); VIGIE_JVM_LIBS can add it on a machine or cluster that has it.
DEFAULT_JVM_LIBS: tuple[str, ...] = ("delta", "synapseml", "sparknlp")
# What each stage's own command loads in local mode: a JVM library costs start-up time (Ivy resolves
# its jars, the JVM opens them), about 6 s for SynapseML and Spark NLP together. `vigie pipeline` runs
# every stage in one session, so it loads the default set.
STAGE_JVM_LIBS: dict[str, tuple[str, ...]] = {
    "ingest": ("delta",),
    "anomalies": ("delta", "synapseml", "sparknlp"),  # Isolation Forest; the drivers' keywords
    "communities": ("delta",),
    "bots": ("delta", "synapseml"),  # LightGBM
}

# SynapseML's published POMs drag in test and provided jars that clash with Spark's own.
IVY_EXCLUDES: tuple[str, ...] = (
    "org.scala-lang:scala-reflect",
    "org.apache.spark:spark-tags_2.12",
    "org.scalactic:scalactic_2.12",
    "org.scalatest:scalatest_2.12",
    "com.fasterxml.jackson.core:jackson-databind",
    # Spark NLP's deep-learning runtimes are not on the Maven Central reachable here. vigie only uses
    # its rule-based annotators, which never load them (a test runs them to prove it).
    "com.johnsnowlabs.nlp:tensorflow-cpu_2.12",
    "com.johnsnowlabs.nlp:jsl-llamacpp-cpu_2.12",
    "com.johnsnowlabs.nlp:jsl-openvino-cpu_2.12",
)


def installed_version(dist: str) -> str | None:
    """Version of an installed distribution, or None when it is not installed."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def pip_requirements(*dists: str) -> list[str]:
    """`name==version` lines for a logged model's environment: the installed version, else the pin.

    Given to MLflow so it does not infer them: for a Spark model, inference loads the model in a
    fresh process without vigie's jars, fails, and falls back to pyspark alone, with a warning.
    """
    return [f"{d}=={installed_version(d) or PIP_PINS[d]}" for d in dists]


def maven_packages(keys: list[str] | tuple[str, ...] = DEFAULT_JVM_LIBS) -> list[str]:
    """Maven coordinates for the named JVM libraries, versions taken from the installed pip packages."""
    unknown = [k for k in keys if k not in JVM_LIBRARIES]
    if unknown:
        raise ValueError(f"unknown JVM libraries {unknown}; known: {sorted(JVM_LIBRARIES)}")
    return [c for k in keys for c in JVM_LIBRARIES[k].coordinates()]


def check_stack() -> list[str]:
    """Differences between the installed stack and the pins, as readable sentences (empty when all match)."""
    problems = []
    for dist, want in PIP_PINS.items():
        got = installed_version(dist)
        if got is None:
            problems.append(f"{dist} is not installed (pinned {want}); run `make setup`")
        elif got != want:
            problems.append(f"{dist} {got} is installed but vigie pins {want}; run `make setup`")
    spark = installed_version("pyspark") or ""
    if spark and not spark.startswith(SPARK_LINE + "."):
        problems.append(f"pyspark {spark} is not on the Spark {SPARK_LINE} line that the jars are built for")
    return problems
