"""The hashtag partition as an MLflow pyfunc model: give it hashtags, get their community per method.

A service (or a notebook) can label new tweets' hashtags with the communities of a given run
without Spark: `mlflow.pyfunc.load_model("models:/vigie-communities/1").predict(df)`.
Hashtags are matched lower-cased; unknown hashtags get a null community.

Example:
    >>> model.predict(pd.DataFrame({"hashtag": ["PORESP", "unknown"]}))  # doctest: +SKIP
"""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd


class CommunityLookup(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        table = pd.read_csv(context.artifacts["memberships"], dtype={"hashtag": str})
        self.table = table.pivot_table(index="hashtag", columns="method", values="community", aggfunc="first")

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if "hashtag" not in model_input.columns:
            raise ValueError("the input needs a 'hashtag' column")
        keys = model_input["hashtag"].astype(str).str.lstrip("#").str.lower()
        out = self.table.reindex(keys.to_numpy())
        out.index = model_input.index
        return out.astype("Int64").reset_index(drop=True).assign(hashtag=model_input["hashtag"].to_numpy())
