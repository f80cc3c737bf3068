"""`pz serve` with the real AWS CLI (awscli 1.x from the venv) against it: S3, IAM,
STS from moto, Personalize control plane, runtime and events from the local Personalize; the
world is loaded at start and saved on exit."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from local.emulator.world import World
from tests.local.helpers import REPO, Trained

pytestmark = pytest.mark.cli
AWS = Path(sys.executable).with_name("aws")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(trained_path: tuple[Path, Trained], tmp_path: Path) -> Any:
    source, trained = trained_path
    path = tmp_path / "world.pkl"
    path.write_bytes(source.read_bytes())
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--world", str(path), "--speed", "60"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None:
            raise AssertionError(process.stdout.read() if process.stdout else "server exited")
        time.sleep(0.1)
    yield port, path, trained, process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def aws(port: int, *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    done = subprocess.run(
        [str(AWS), "--endpoint-url", f"http://127.0.0.1:{port}", "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if done.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed: {done.stderr}")
    return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.mark.skipif(not AWS.exists(), reason="the AWS CLI is not installed in the venv")
def test_aws_cli_against_the_server(server: Any) -> None:
    port, path, t, process = server
    recs = aws(
        port,
        "personalize-runtime",
        "get-recommendations",
        "--campaign-arn",
        t.up_campaign,
        "--user-id",
        "u0001",
    )
    assert len(recs["itemList"]) == 25 and recs["itemList"][0]["itemId"].startswith("i")
    ranked = aws(
        port,
        "personalize-runtime",
        "get-personalized-ranking",
        "--campaign-arn",
        t.rank_campaign,
        "--user-id",
        "u0001",
        "--input-list",
        "i0001",
        "i0002",
        "i0003",
    )
    assert {i["itemId"] for i in ranked["personalizedRanking"]} == {"i0001", "i0002", "i0003"}
    aws(
        port,
        "personalize-events",
        "put-events",
        "--tracking-id",
        t.tracking_id,
        "--user-id",
        "u0001",
        "--session-id",
        "s1",
        "--event-list",
        json.dumps([{"eventType": "view", "itemId": "i0002", "sentAt": 1767300000}]),
    )
    campaign = aws(port, "personalize", "describe-campaign", "--campaign-arn", t.up_campaign)["campaign"]
    assert campaign["status"] == "ACTIVE"
    created = aws(port, "personalize", "create-dataset-group", "--name", "from-cli")
    assert created["datasetGroupArn"].endswith(":dataset-group/from-cli")
    assert {g["name"] for g in aws(port, "personalize", "list-dataset-groups")["datasetGroups"]} >= {
        "from-cli"
    }
    listing = aws(port, "s3api", "list-objects-v2", "--bucket", "local-test-data")
    assert "interactions.csv" in {o["Key"] for o in listing["Contents"]}
    assert aws(port, "iam", "get-role", "--role-name", "personalize-service-role")["Role"]["Arn"] == t.role
    assert aws(port, "sts", "get-caller-identity")["Account"] == "123456789012"
    try:
        aws(port, "personalize", "describe-solution", "--solution-arn", t.up_solution + "-nope")
    except AssertionError as error:
        assert "ResourceNotFoundException" in str(error)
    else:
        raise AssertionError("describe of a missing solution should fail")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    saved = World.load(path)
    assert "arn:aws:personalize:us-east-1:123456789012:dataset-group/from-cli" in saved.personalize.resources
    saved.close()
