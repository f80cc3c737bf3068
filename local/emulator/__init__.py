"""The local AWS: moto for S3, IAM, STS, Logs and Step Functions, this project's local Personalize,
the virtual clock, fault injection and the HTTP server (`World` is the entry point)."""
