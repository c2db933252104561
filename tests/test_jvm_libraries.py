"""Each JVM library of the stack runs for real in the shared session, with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual


def adbench(spark, shared_data, name):
    data = np.load(shared_data / "adbench-classical" / name)
    rows = [(Vectors.dense(x.tolist()), float(y)) for x, y in zip(data["X"], data["y"], strict=True)]
    return spark.createDataFrame(rows, ["features", "label"])


def test_delta_write_merge_and_time_travel(spark, tmp_path):
    from delta.tables import DeltaTable

    path = str(tmp_path / "t")
    v0 = spark.createDataFrame([(1, "a"), (2, "b")], "id long, v string")
    v0.write.format("delta").save(path)
    upd = spark.createDataFrame([(2, "B"), (3, "c")], "id long, v string")
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(upd.alias("s"), "t.id = s.id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )
    now = spark.read.format("delta").load(path)
    assertDataFrameEqual(now, spark.createDataFrame([(1, "a"), (2, "B"), (3, "c")], "id long, v string"))
    assertDataFrameEqual(spark.read.format("delta").option("versionAsOf", 0).load(path), v0)
    assert DeltaTable.forPath(spark, path).history().select("operation").first()[0] == "MERGE"


def test_synapseml_isolation_forest_finds_labelled_outliers(spark, shared_data):
    from synapse.ml.isolationforest import IsolationForest

    df = adbench(spark, shared_data, "31_satimage-2.npz")
    model = IsolationForest(numEstimators=100, maxSamples=256, contamination=0.02, randomSeed=1).fit(df)
    scored = model.transform(df)
    auroc = BinaryClassificationEvaluator(rawPredictionCol="outlierScore", labelCol="label").evaluate(scored)
    assert auroc > 0.95
    flagged = scored.agg(F.avg("predictedLabel")).first()[0]
    assert flagged == pytest.approx(0.02, abs=0.01)


def test_synapseml_lightgbm_classifier_learns_a_real_labelled_set(spark, shared_data):
    from synapse.ml.lightgbm import LightGBMClassifier

    df = adbench(spark, shared_data, "43_WDBC.npz")
    train, test = df.randomSplit([0.7, 0.3], seed=3)
    model = LightGBMClassifier(
        numIterations=50, numLeaves=7, objective="binary", verbosity=-1, defaultListenPort=12500
    ).fit(train)
    auc = BinaryClassificationEvaluator(rawPredictionCol="rawPrediction", labelCol="label").evaluate(
        model.transform(test)
    )
    assert auc > 0.9


def test_spark_nlp_rule_based_pipeline_tokenizes_offline(spark):
    from pyspark.ml import Pipeline
    from sparknlp.annotator import Tokenizer
    from sparknlp.base import DocumentAssembler

    df = spark.createDataFrame([("Portugal 3-3 Spain, what a match!",)], ["text"])
    pipeline = Pipeline(
        stages=[
            DocumentAssembler().setInputCol("text").setOutputCol("document"),
            Tokenizer().setInputCols(["document"]).setOutputCol("token"),
        ]
    )
    tokens = pipeline.fit(df).transform(df).select(F.col("token.result").alias("t")).first()["t"]
    assert tokens == ["Portugal", "3-3", "Spain", ",", "what", "a", "match", "!"]
