"""The Spark engine (issue 17): the whole-table rule jobs on Apache Spark.

A third evaluator of ``rules-v1`` (``spark.evaluate``) beside the Python one
(``rules.evaluate``) and the SQL one (``rules.compile``), compiled from the same rule set,
and the jobs that run it over a store's tables (``spark.jobs``). Nothing here imports
pyspark at import time: the platform runs without it, and ``spark.session.require``
names the extra to install when a job asks for it.
"""
