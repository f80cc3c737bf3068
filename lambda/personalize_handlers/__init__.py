"""Custom-resource handlers for Amazon Personalize (CDK Provider framework + Step Functions waiter).

Python stdlib + boto3 only: this directory is the Lambda asset as it is, nothing bundled.
Entry points live in `entry`; see docs/handler-contract.md.
"""
