# Databricks notebook source
# MAGIC %md
# MAGIC # Explore the silver tables
# MAGIC What the study's analysts looked at first: hashtag frequency, activity per user, tweets per hour,
# MAGIC and what the ingest quarantined. Runs on Databricks, or locally:
# MAGIC `python notebooks/explore_silver.py LAKEHOUSE`.

# COMMAND ----------
import sys

from pyspark.sql import functions as F

from vigie.session import get_spark

spark = get_spark(app_name="vigie-explore")
LAKEHOUSE = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "demo/lakehouse"
tweets = spark.read.format("delta").load(f"{LAKEHOUSE}/silver/tweets")
hashtags = spark.read.format("delta").load(f"{LAKEHOUSE}/silver/hashtags")

# COMMAND ----------
# Hashtag frequency (worldcup is over-represented, as in the study)
hashtags.groupBy("hashtag").count().orderBy(F.desc("count")).show(15, truncate=False)

# COMMAND ----------
# Activity per user: the most active accounts, and hashtags per tweet
tweets.groupBy("screen_name").count().orderBy(F.desc("count")).show(10, truncate=False)
tweets.select(F.size("hashtags").alias("n")).groupBy("n").count().orderBy("n").show()

# COMMAND ----------
# Tweets per hour of day (peaks 12h-15h)
tweets.groupBy(F.hour("created_at").alias("hour")).count().orderBy("hour").show(24)

# COMMAND ----------
# What the ingest quarantined, and why
spark.read.format("delta").load(f"{LAKEHOUSE}/silver/rejected").groupBy("reason").count().orderBy(F.desc("count")).show(
    truncate=100
)
