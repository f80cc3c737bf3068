"""The Step Functions waiter: polls a long Personalize operation and signals its WaitCondition handle.

Definition per docs/handler-contract.md: Poll -> Done? -> Wait(SecondsPath $.waitSeconds) -> Poll,
SignalSuccess -> Succeeded, SignalFailure -> Failed. The poll schedule lives in the handler
(`schedule.next_delay`), so the state machine stays a dumb loop.

The three Lambda tasks are `sfn.CustomState`s holding the plain Task state (`Resource`: the function
ARN, i.e. the payload in, the function's result out) that `tasks.LambdaInvoke(payload_response_only=
True)` renders: the same states, without importing aws_stepfunctions_tasks, whose Python bindings
alone cost ~25 ms of every synth (bench/synth.py) for these three states.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

#: Lambda errors worth retrying inside the state machine (the service's, not the handler's).
_LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
#: A signal is one PUT to the handle's presigned URL after a wait of up to 12 hours: a transient
#: failure there (S3 5xx, a timeout, a throttled Lambda) must not throw away the operation's outcome
#: and leave the WaitCondition to time out. So the signal tasks also retry every error, with
#: exponential backoff capped at SIGNAL_MAX_DELAY: 10 retries reach about 35 minutes.
SIGNAL_RETRY_INTERVAL = cdk.Duration.seconds(10)
SIGNAL_RETRY_ATTEMPTS = 10
SIGNAL_MAX_DELAY = cdk.Duration.minutes(5)


class WaiterStateMachine(Construct):
    """Exposes `state_machine`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        poll_function: lambda_.IFunction,
        signal_function: lambda_.IFunction,
        log_group: logs.ILogGroup,
        max_wait: cdk.Duration,
    ) -> None:
        super().__init__(scope, id)

        def invoke(name: str, function: lambda_.IFunction) -> sfn.CustomState:
            task = sfn.CustomState(self, name, state_json={"Type": "Task", "Resource": function.function_arn})
            task.add_retry(
                errors=_LAMBDA_SERVICE_ERRORS,
                interval=cdk.Duration.seconds(2),
                max_attempts=6,
                backoff_rate=2,
            )
            return task

        failed = sfn.Fail(self, "Failed", cause="The Personalize operation failed or could not be polled")
        succeeded = sfn.Succeed(self, "Succeeded")
        # Every retry spent: the execution fails with its own error, the last one kept in the state
        # ($.signalError, in the execution history and its log), so the failed-executions alarm
        # names why the WaitCondition never heard back.
        not_signalled = sfn.Fail(
            self,
            "SignalNotDelivered",
            error="SignalNotDelivered",
            cause="The WaitCondition handle could not be signalled after every retry; "
            "CloudFormation fails the wait at its Timeout",
        )

        def signal(name: str) -> sfn.CustomState:
            task = invoke(name, signal_function)
            task.add_retry(
                errors=["States.ALL"],
                interval=SIGNAL_RETRY_INTERVAL,
                max_attempts=SIGNAL_RETRY_ATTEMPTS,
                backoff_rate=2,
                max_delay=SIGNAL_MAX_DELAY,
            )
            task.add_catch(not_signalled, errors=["States.ALL"], result_path="$.signalError")
            return task

        signal_failure = signal("SignalFailure").next(failed)
        signal_success = signal("SignalSuccess").next(succeeded)
        poll = invoke("Poll", poll_function)
        # A poll that keeps failing after its retries still signals the handle, so the WaitCondition
        # fails now with the reason instead of timing out hours later.
        poll.add_catch(signal_failure, errors=["States.ALL"], result_path="$.error")
        wait = sfn.Wait(self, "Wait", time=sfn.WaitTime.seconds_path("$.waitSeconds"))
        done = (
            sfn.Choice(self, "Done?")
            .when(sfn.Condition.string_equals("$.state", "SUCCEEDED"), signal_success)
            .when(sfn.Condition.string_equals("$.state", "FAILED"), signal_failure)
            .otherwise(wait.next(poll))
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(poll.next(done)),
            timeout=max_wait,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment="Polls a long Amazon Personalize operation and signals its WaitCondition handle",
        )
        # What LambdaInvoke would grant: invoke of the two functions (and their versions/aliases).
        for function in (poll_function, signal_function):
            function.grant_invoke(self.state_machine)
