"""`python -m cli serve`, driven by a Personalize client written from the API reference alone:
plain HTTP and JSON, nothing of the project's code and no botocore client for Personalize.

The wire format is the one the API reference and botocore's model metadata state: the control
plane speaks awsJson1_1 (`POST /`, `X-Amz-Target: AmazonPersonalize.<Operation>`,
`Content-Type: application/x-amz-json-1.1`, timestamps as epoch seconds), the runtime restJson1
(`POST /recommendations`); every request is SigV4-signed for the signing name `personalize`
(botocore.auth signs the raw request, as any SigV4 library would). S3 and IAM, which only set the
stage, use boto3 against the same endpoint.

The client takes a dataset group -> schema -> dataset -> import -> solution -> version ->
campaign to ACTIVE and gets recommendations. It finds its dataset the way a client that creates
idempotently does, by listing the group's datasets and matching `datasetType` as the service
answers it (`INTERACTIONS`). The server runs at wall speed; the client lets hours pass with the
server's clock endpoint. Each response carries one `Date` header.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.local.helpers import BUCKET, DATA, REGION, setup_access

pytestmark = pytest.mark.slow
CREDENTIALS = Credentials("local", "local")


class RawPersonalize:
    """A Personalize client from the API reference: one signed HTTP request per operation."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dates: list[list[str]] = []

    def _send(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode()
        url = f"http://127.0.0.1:{self.port}{path}"
        request = AWSRequest(method="POST", url=url, data=data, headers=headers)
        SigV4Auth(CREDENTIALS, "personalize", REGION).add_auth(request)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", path, body=data, headers=dict(request.headers.items()))
            response = connection.getresponse()
            self.dates.append(response.msg.get_all("Date") or [])
            text = response.read()
            return response.status, json.loads(text) if text else {}
        finally:
            connection.close()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        status, answer = self._send(
            "/",
            params,
            {"X-Amz-Target": f"AmazonPersonalize.{operation}", "Content-Type": "application/x-amz-json-1.1"},
        )
        if status != 200:
            raise AssertionError(f"{operation}: HTTP {status} {answer}")
        return answer

    def recommendations(self, **params: Any) -> dict[str, Any]:
        status, answer = self._send("/recommendations", params, {"Content-Type": "application/json"})
        assert status == 200, answer
        return answer

    def clock(self, advance: float | None = None) -> float:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            if advance is None:
                connection.request("GET", "/_local/clock")
            else:
                connection.request("POST", "/_local/clock/advance", body=json.dumps({"seconds": advance}))
            response = connection.getresponse()
            answer = json.loads(response.read())
            assert response.status == 200, answer
            return float(answer["now"])
        finally:
            connection.close()

    def wait(self, operation: str, key: str, arn_key: str, arn: str, step: float = 300) -> dict[str, Any]:
        """Describe until ACTIVE, letting `step` seconds pass on the server's clock between calls."""
        for _ in range(400):
            found = self.call(operation, **{arn_key: arn})[key]
            assert not found["status"].endswith("FAILED"), found
            if found["status"] == "ACTIVE":
                return found
            self.clock(advance=step)
        raise AssertionError(f"{operation} {arn}: not ACTIVE: {found}")


def test_a_client_from_the_api_reference_gets_recommendations(served: int) -> None:
    port = served
    endpoint = f"http://127.0.0.1:{port}"
    stage = {
        "region_name": REGION,
        "endpoint_url": endpoint,
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    s3, iam = boto3.client("s3", **stage), boto3.client("iam", **stage)
    role = setup_access(s3, iam)
    s3.put_object(Bucket=BUCKET, Key="interactions.csv", Body=(DATA / "interactions.csv").read_bytes())

    pz = RawPersonalize(port)
    # the server runs at wall speed from wall time: its timestamps agree with this client's clock
    before = time.time()
    group = pz.call("CreateDatasetGroup", name="raw-dg")["datasetGroupArn"]
    described = pz.call("DescribeDatasetGroup", datasetGroupArn=group)["datasetGroup"]
    assert isinstance(described["creationDateTime"], int | float)
    assert before - 5 <= described["creationDateTime"] <= time.time() + 5
    pz.wait("DescribeDatasetGroup", "datasetGroup", "datasetGroupArn", group, step=60)

    schema = pz.call(
        "CreateSchema", name="raw-interactions", schema=(DATA / "schemas" / "interactions.json").read_text()
    )["schemaArn"]
    pz.call(
        "CreateDataset",
        name="raw-interactions",
        schemaArn=schema,
        datasetGroupArn=group,
        datasetType="Interactions",
    )
    listed = pz.call("ListDatasets", datasetGroupArn=group)["datasets"]
    matching = [d for d in listed if d["datasetType"] == "INTERACTIONS"]
    assert len(matching) == 1, listed
    dataset = matching[0]["datasetArn"]
    pz.wait("DescribeDataset", "dataset", "datasetArn", dataset, step=60)

    job = pz.call(
        "CreateDatasetImportJob",
        jobName="raw-import",
        datasetArn=dataset,
        roleArn=role,
        dataSource={"dataLocation": f"s3://{BUCKET}/interactions.csv"},
    )["datasetImportJobArn"]
    pz.wait("DescribeDatasetImportJob", "datasetImportJob", "datasetImportJobArn", job)

    solution = pz.call(
        "CreateSolution",
        name="raw-sims",
        datasetGroupArn=group,
        recipeArn="arn:aws:personalize:::recipe/aws-sims",
        performAutoTraining=False,
    )["solutionArn"]
    pz.wait("DescribeSolution", "solution", "solutionArn", solution, step=60)
    version = pz.call("CreateSolutionVersion", solutionArn=solution)["solutionVersionArn"]
    trained = pz.wait("DescribeSolutionVersion", "solutionVersion", "solutionVersionArn", version, step=900)
    assert trained["trainingMode"] == "FULL"

    campaign = pz.call(
        "CreateCampaign", name="raw-campaign", solutionVersionArn=version, minProvisionedTPS=1
    )["campaignArn"]
    pz.wait("DescribeCampaign", "campaign", "campaignArn", campaign, step=120)

    answer = pz.recommendations(campaignArn=campaign, itemId="i0001", numResults=5)
    items = [entry["itemId"] for entry in answer["itemList"]]
    assert len(items) == 5 and "i0001" not in items
    assert answer["recommendationId"]

    # the clock moved only when asked: hours of training passed, not hours of waiting
    assert pz.clock() - time.time() > 3600
    # one Date header on every answer (RFC 9110: a single HTTP-date, never repeated)
    assert pz.dates and all(len(dates) == 1 for dates in pz.dates), pz.dates


def test_the_clock_endpoint_refuses_going_back(served: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    connection.request("POST", "/_local/clock/advance", body=json.dumps({"seconds": -5}))
    response = connection.getresponse()
    assert response.status == 400 and "N >= 0" in json.loads(response.read())["message"]
    assert len(response.msg.get_all("Date") or []) == 1
    connection.close()
