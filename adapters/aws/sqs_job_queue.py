"""Image jobs on Amazon SQS: long polling, visibility changes, a DLQ by redrive policy."""

import json
from typing import Any

from botocore.exceptions import ClientError

from adapters.aws.clients import error_code
from application.ports.images import ReceivedJob

MAX_BATCH, MAX_WAIT = 10, 20
TRACEPARENT = "traceparent"
MAX_VISIBILITY = 43200  # 12 h, SQS's ceiling
STALE_RECEIPT = {"ReceiptHandleIsInvalid", "InvalidParameterValue",
                 "AWS.SimpleQueueService.MessageNotInflight"}


class SqsJobQueue:
    """Messages are `{"image_id": ...}`, with the trace context in the message attribute
    `traceparent` (where tracing tools look for it); the dead-letter queue is wherever the queue's
    redrive policy sends messages after maxReceiveCount receives."""

    def __init__(
        self, client: Any, queue_url: str, dead_letter_url: str, visibility_timeout: float
    ) -> None:
        self._client, self._url, self._dead_url = client, queue_url, dead_letter_url
        self._visibility = int(visibility_timeout)

    @classmethod
    async def connect(
        cls, client: Any, queue_url: str, dead_letter_url: str | None, visibility_timeout: float
    ) -> "SqsJobQueue":
        """Finds the dead-letter queue from the redrive policy unless it is given."""
        if dead_letter_url is None:
            attributes = await client.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
            policy = json.loads(attributes["Attributes"]["RedrivePolicy"])
            name = policy["deadLetterTargetArn"].rsplit(":", 1)[-1]
            dead_letter_url = (await client.get_queue_url(QueueName=name))["QueueUrl"]
        return cls(client, queue_url, dead_letter_url, visibility_timeout)

    async def send(self, image_id: str, traceparent: str | None = None) -> None:
        attributes = {} if traceparent is None else {
            TRACEPARENT: {"DataType": "String", "StringValue": traceparent}}
        await self._client.send_message(
            QueueUrl=self._url, MessageBody=json.dumps({"image_id": image_id}),
            MessageAttributes=attributes)

    async def receive(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        return await self._receive(self._url, max_jobs, wait_seconds, self._visibility)

    async def receive_dead(self, max_jobs: int, wait_seconds: float) -> list[ReceivedJob]:
        return await self._receive(self._dead_url, max_jobs, wait_seconds, self._visibility)

    async def delete(self, receipt: str) -> None:
        await self._ignoring_stale(self._client.delete_message(
            QueueUrl=self._url, ReceiptHandle=receipt))

    async def delete_dead(self, receipt: str) -> None:
        await self._ignoring_stale(self._client.delete_message(
            QueueUrl=self._dead_url, ReceiptHandle=receipt))

    async def change_visibility(self, receipt: str, seconds: float) -> None:
        await self._ignoring_stale(self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=receipt, VisibilityTimeout=_seconds(seconds)))

    async def change_dead_visibility(self, receipt: str, seconds: float) -> None:
        await self._ignoring_stale(self._client.change_message_visibility(
            QueueUrl=self._dead_url, ReceiptHandle=receipt, VisibilityTimeout=_seconds(seconds)))

    async def depth(self) -> tuple[int, int]:
        """(messages in the queue, messages in the dead-letter queue), in flight included;
        SQS's approximate counts."""
        return await self._count(self._url), await self._count(self._dead_url)

    async def _count(self, url: str) -> int:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        found = await self._client.get_queue_attributes(QueueUrl=url, AttributeNames=names)
        return sum(int(found.get("Attributes", {}).get(name, 0)) for name in names)

    async def _receive(
        self, url: str, max_jobs: int, wait: float, visibility: int
    ) -> list[ReceivedJob]:
        response = await self._client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=max(1, min(MAX_BATCH, max_jobs)),
            WaitTimeSeconds=max(0, min(MAX_WAIT, int(wait))), VisibilityTimeout=visibility,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=[TRACEPARENT],
        )
        jobs = []
        for message in response.get("Messages", []):
            try:
                image_id = str(json.loads(message["Body"])["image_id"])
            except (ValueError, KeyError, TypeError):
                image_id = ""  # unreadable: the worker acknowledges and logs it
            count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
            traceparent = message.get("MessageAttributes", {}).get(TRACEPARENT, {})
            jobs.append(ReceivedJob(image_id, message["ReceiptHandle"], count,
                                    traceparent.get("StringValue")))
        return jobs

    @staticmethod
    async def _ignoring_stale(call: Any) -> None:
        try:
            await call
        except ClientError as error:
            # The delivery was superseded (visibility ran out, received again): nothing to do.
            if error_code(error) not in STALE_RECEIPT:
                raise


def _seconds(value: float) -> int:
    return max(0, min(MAX_VISIBILITY, round(value)))


async def create_queues(
    client: Any, name: str, max_receives: int, visibility_timeout: int = 30
) -> tuple[str, str]:
    """Creates `<name>` with a dead-letter queue `<name>-dlq` (tests and local stacks;
    Terraform owns them in AWS). Answers (queue URL, dead-letter queue URL)."""
    dead_url = (await client.create_queue(QueueName=f"{name}-dlq"))["QueueUrl"]
    dead_arn = (await client.get_queue_attributes(
        QueueUrl=dead_url, AttributeNames=["QueueArn"]))["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(max_receives)})
    url = (await client.create_queue(QueueName=name, Attributes={
        "RedrivePolicy": redrive, "VisibilityTimeout": str(visibility_timeout)}))["QueueUrl"]
    return url, dead_url
