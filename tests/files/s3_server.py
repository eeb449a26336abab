"""An S3 server for the tests: moto in server mode, behind a gate that enforces POST policies.

moto (5.2) stores whatever a browser-style POST upload sends: it checks neither the policy's
signature nor its conditions. The gate does what AWS documents for POST uploads
(docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html): the policy is
signed with the caller's secret (SigV4), not expired, every condition holds, and every
form field is covered by a condition. It answers as S3 does: 403 AccessDenied for a failed
condition or signature, 400 EntityTooLarge / EntityTooSmall for the content-length-range.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.formparser import parse_form_data
from werkzeug.serving import make_server

# Form fields that no condition needs to cover (AWS: the signature, the file, the policy).
_UNCOVERED = {"x-amz-signature", "file", "policy"}

StartResponse = Callable[..., Any]


def _error(start_response: StartResponse, status: str, code: str, message: str) -> list[bytes]:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()
    start_response(status, [("Content-Type", "application/xml")])
    return [body]


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class PolicyRefused(Exception):
    def __init__(self, status: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def check_post_policy(
    fields: dict[str, str], file_size: int, bucket: str, secrets: dict[str, str]
) -> None:
    """Raise PolicyRefused where AWS would refuse this POST upload."""
    denied = "403 Forbidden"
    try:
        policy_b64 = fields["policy"]
        credential = fields["x-amz-credential"]
        signature = fields["x-amz-signature"]
        policy = json.loads(base64.b64decode(policy_b64))
    except (KeyError, ValueError) as exc:
        raise PolicyRefused(denied, "AccessDenied", f"Malformed POST policy: {exc!r}") from None
    access_key, date, region, service, _ = credential.split("/")
    secret = secrets.get(access_key)
    if secret is None:
        raise PolicyRefused(denied, "InvalidAccessKeyId", "Unknown access key.")
    expected = hmac.new(
        _signing_key(secret, date, region, service), policy_b64.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise PolicyRefused(denied, "SignatureDoesNotMatch", "The policy signature is wrong.")
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    if expiration <= datetime.now(UTC):
        raise PolicyRefused(denied, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {name.lower(): value for name, value in fields.items()}
    values["bucket"] = bucket
    covered: set[str] = set()
    for condition in policy["conditions"]:
        _check_condition(condition, values, file_size, covered)
    extra = {name.lower() for name in fields} - covered - _UNCOVERED
    if extra:
        raise PolicyRefused(
            denied,
            "AccessDenied",
            f"Invalid according to Policy: Extra input fields: {', '.join(sorted(extra))}",
        )


def _check_condition(
    condition: Any, values: dict[str, str], file_size: int, covered: set[str]
) -> None:
    failed = PolicyRefused(
        "403 Forbidden",
        "AccessDenied",
        f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
    )
    if isinstance(condition, dict):
        ((name, wanted),) = condition.items()
        name = name.lower()
        covered.add(name)
        if values.get(name) != wanted:
            raise failed
        return
    operator = condition[0].lower()
    if operator == "content-length-range":
        low, high = int(condition[1]), int(condition[2])
        if file_size > high:
            raise PolicyRefused(
                "400 Bad Request", "EntityTooLarge", "Your proposed upload exceeds the maximum."
            )
        if file_size < low:
            raise PolicyRefused(
                "400 Bad Request", "EntityTooSmall", "Your proposed upload is below the minimum."
            )
        return
    name = condition[1].lstrip("$").lower()
    covered.add(name)
    value = values.get(name, "")
    if operator == "eq" and value != condition[2]:
        raise failed
    if operator == "starts-with" and not value.startswith(condition[2]):
        raise failed


class PostPolicyGate:
    """WSGI middleware in front of moto: POST uploads must satisfy their policy."""

    def __init__(self, app: Callable, secrets: dict[str, str]) -> None:
        self.app = app
        self.secrets = secrets

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        is_form_post = environ["REQUEST_METHOD"] == "POST" and environ.get(
            "CONTENT_TYPE", ""
        ).startswith("multipart/form-data")
        if not is_form_post:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        parse_environ = {**environ, "wsgi.input": io.BytesIO(body)}
        _, form, files = parse_form_data(parse_environ)
        upload = files.get("file")
        if "policy" in form and upload is not None:
            bucket = environ["PATH_INFO"].strip("/").split("/")[0]
            try:
                check_post_policy(dict(form.items()), len(upload.read()), bucket, self.secrets)
            except PolicyRefused as refused:
                return _error(start_response, refused.status, refused.code, refused.message)
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


class PolicyEnforcingMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer whose POST uploads go through PostPolicyGate."""

    def __init__(self, *, secrets: dict[str, str], ip_address: str = "127.0.0.1") -> None:
        super().__init__(ip_address=ip_address, port=0, verbose=False)
        self.secrets = secrets

    def _server_entry(self) -> None:
        app = PostPolicyGate(DomainDispatcherApplication(create_backend_app), self.secrets)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"
