"""A local S3-compatible object store for the shared-cache tests: moto's server.

moto's standalone server speaks S3's HTTP protocol (conditional writes with
``If-None-Match`` included, which Delta Lake commits rely on), so the shared
cache is exercised through the same object-store client as against a real
bucket. It binds 127.0.0.1 on a free port; one server serves a whole test
module. :meth:`S3Server.users` creates IAM users (a writer and a reader allowed
only to list and get) and then switches moto's authorization on, so a reader
without write permission is a real ``AccessDenied``.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

REGION = "us-east-1"
ROOT_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

READ_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}
    ],
}
WRITE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}],
}


@dataclass(frozen=True)
class Keys:
    """An access key pair, as the environment variables that carry it."""

    access_key_id: str
    secret_access_key: str

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }


class S3Server:
    """moto's server on 127.0.0.1, with helpers to make buckets and users."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> None:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self.set_auth(enabled=False)
        self._server.stop()

    def client(self, service: str = "s3", keys: Keys | None = None) -> Any:
        import boto3

        secret = keys.env() if keys else ROOT_KEYS
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=secret["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=secret["AWS_SECRET_ACCESS_KEY"],
        )

    def bucket(self, name: str) -> str:
        """A new, empty bucket; its ``s3://`` URL."""
        self.client().create_bucket(Bucket=name)
        return f"s3://{name}"

    def keys(self, bucket: str, as_user: Keys | None = None) -> list[str]:
        """Every object key in ``bucket`` (listed with ``as_user``'s keys once
        authorization is on)."""
        pages = self.client(keys=as_user).get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def users(self) -> tuple[Keys, Keys]:
        """A writer and a read-only reader; from now on requests are authorized."""
        iam = self.client("iam")
        made = []
        for name, policy in (("writer", WRITE_POLICY), ("reader", READ_ONLY_POLICY)):
            iam.create_user(UserName=name)
            iam.put_user_policy(
                UserName=name, PolicyName=f"{name}-s3", PolicyDocument=json.dumps(policy)
            )
            key = iam.create_access_key(UserName=name)["AccessKey"]
            made.append(Keys(key["AccessKeyId"], key["SecretAccessKey"]))
        self.set_auth(enabled=True)
        return made[0], made[1]

    def set_auth(self, *, enabled: bool) -> None:
        """Switch moto's IAM authorization on (every request from now) or off."""
        count = b"0" if enabled else b"inf"
        request = urllib.request.Request(
            f"{self.url}/moto-api/reset-auth",
            data=count,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """A running server, stopped on exit."""
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def s3_env(server: S3Server, keys: Keys | None = None) -> dict[str, str]:
    """The environment a process needs to reach ``server`` (the platform's usual
    variables: endpoint, region, keys)."""
    return {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **(keys.env() if keys else ROOT_KEYS),
    }
