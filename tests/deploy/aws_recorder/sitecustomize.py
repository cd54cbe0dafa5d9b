"""Put on PYTHONPATH of a child process with ATELIER_TEST_AWS_CALLS=<file>: every AWS API
call (and presigned URL) its botocore sessions make is appended to the file as one JSON
line, from botocore's `provide-client-params` event (see tests/deploy/iam.py, which reads
the same shape in-process)."""

import json
import os

_FILE = os.environ.get("ATELIER_TEST_AWS_CALLS")
_KEPT = {"QueueUrl", "QueueName", "Bucket", "Key", "Prefix", "SecretId", "Names", "Name",
         "UserPoolId", "Source", "FromEmailAddress", "KeyId", "ConfigurationSetName", "Delete"}


def _record(params, model, **_):  # type: ignore[no-untyped-def]
    auth = getattr(model, "auth", None) or []
    if model.auth_type == "none" or "smithy.api#noAuth" in auth:
        return
    service = model.service_model.signing_name or model.service_model.endpoint_prefix
    line = json.dumps({"service": service, "operation": model.name,
                       "params": {k: v for k, v in params.items() if k in _KEPT}}, default=str)
    with open(_FILE, "a") as out:
        out.write(line + "\n")


if _FILE:
    import botocore.session

    _original = botocore.session.Session.__init__

    def _hooked(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _original(self, *args, **kwargs)
        self.get_component("event_emitter").register("provide-client-params", _record)

    botocore.session.Session.__init__ = _hooked
