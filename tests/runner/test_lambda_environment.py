"""A function's environment as Lambda gives it: LAMBDA_TASK_ROOT is where its code was unpacked
(/var/task on Lambda, the asset folder here), and a variable naming a path under /var/task names the
same path in the asset folder, so that botocore's AWS_DATA_PATH finds the models the asset ships."""

from __future__ import annotations

import os
from pathlib import Path

from local.runner.lambdas import LambdaFunction, LambdaService

CODE = """
import os
import boto3

def handler(event, context):
    loader = boto3.session.Session()._loader
    return {"root": os.environ["LAMBDA_TASK_ROOT"], "data": os.environ["AWS_DATA_PATH"],
            "other": os.environ["PLAIN"], "searched": loader.search_paths[0]}
"""


def test_paths_under_var_task_name_the_asset_folder(tmp_path: Path) -> None:
    (tmp_path / "fn.py").write_text(CODE)
    lambdas = LambdaService("ap-southeast-2", lambda: 0.0)
    environment = {"AWS_DATA_PATH": "/var/task/models", "PLAIN": "/var/taskforce"}
    arn = "arn:aws:lambda:ap-southeast-2:123456789012:function:fn"
    lambdas.register(LambdaFunction("fn", arn, "fn.handler", "python3.13", environment, tmp_path))
    seen = lambdas.invoke("fn", {})
    assert seen == {"root": str(tmp_path), "data": f"{tmp_path}/models", "other": "/var/taskforce",
                    "searched": f"{tmp_path}/models"}
    assert "LAMBDA_TASK_ROOT" not in os.environ or os.environ["LAMBDA_TASK_ROOT"] != str(tmp_path)
