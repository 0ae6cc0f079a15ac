"""Vendors' published API descriptions, read in place for parser and fake tests.

The descriptions live beside the project in ``../shared/data/api-specs/<vendor>/``
(each folder's NOTICE.md says where they come from and under which licence);
they are read at run time and never copied into the repository. When they are
missing the tests that need them skip, except under ``CI=true`` where a missing
prerequisite is a failure.

:func:`response_schema` finds an operation's success response schema in a
Swagger 2.0 or OpenAPI 3 document, and :func:`validate` checks a payload against
any schema of the document (``$ref`` resolved within it), so a fake server's
answers and a parser's inputs are held to what the vendor documents.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

API_SPECS = Path(__file__).resolve().parents[2] / "shared" / "data" / "api-specs"


def spec_dir(vendor: str) -> Path:
    """``api-specs/<vendor>``; skips the test when it is absent (fails under CI)."""
    folder = API_SPECS / vendor
    if not folder.is_dir():
        message = f"vendor API descriptions not found at {folder}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@cache
def _load(path: Path) -> dict[str, Any]:
    # Some vendors (Azure DevOps) write a byte-order mark.
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    assert isinstance(data, dict), path
    return data


def load_spec(vendor: str, relpath: str) -> dict[str, Any]:
    """One JSON document of ``api-specs/<vendor>`` (cached; do not modify it)."""
    path = spec_dir(vendor) / relpath
    if not path.is_file():
        message = f"{path} not found"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return _load(path)


def operation(spec: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    """The operation object at ``path`` (exactly as the document spells it)."""
    paths = spec.get("paths") or {}
    assert path in paths, f"{path} is not in the API description"
    op = paths[path].get(method.lower())
    assert isinstance(op, dict), f"{method.upper()} {path} is not in the API description"
    return op


def response_schema(
    spec: dict[str, Any], path: str, method: str = "get", status: str = "200"
) -> dict[str, Any]:
    """The schema of an operation's ``status`` answer (JSON media type on OpenAPI 3)."""
    responses = operation(spec, path, method).get("responses") or {}
    answer = responses.get(status) or responses.get(int(status)) or {}
    answer = resolve(spec, answer)
    if "schema" in answer:  # Swagger 2.0
        schema = answer["schema"]
    else:  # OpenAPI 3
        content = answer.get("content") or {}
        media = next((v for k, v in content.items() if "json" in k), None)
        assert media is not None, f"{path}: no JSON answer for {status}"
        schema = media.get("schema")
    assert isinstance(schema, dict), f"{path}: no schema for {status}"
    return schema


def resolve(spec: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """``obj``, or what its local ``$ref`` points to."""
    ref = obj.get("$ref") if isinstance(obj, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return obj
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return resolve(spec, node)


def examples(
    spec: dict[str, Any], path: str, method: str = "get", status: str = "200"
) -> list[Any]:
    """The example payloads an operation's answer documents (may be empty)."""
    responses = operation(spec, path, method).get("responses") or {}
    answer = resolve(spec, responses.get(status) or {})
    out: list[Any] = []
    for media in (answer.get("content") or {}).values():
        if "example" in media:
            out.append(media["example"])
        for example in (media.get("examples") or {}).values():
            value = resolve(spec, example).get("value")
            if value is not None:
                out.append(value)
    out.extend((answer.get("examples") or {}).values())  # Swagger 2.0
    return out


def validate(spec: dict[str, Any], schema: dict[str, Any], payload: Any) -> None:
    """Fail the test when ``payload`` does not match ``schema`` (refs resolved in ``spec``).

    Swagger 2.0's ``x-nullable`` and OpenAPI 3.0's ``nullable`` are honoured, so a
    ``null`` the vendor documents as possible passes."""
    import jsonschema

    wrapped = {**_nullable(schema), **_referenced(id(spec), spec)}
    validator = jsonschema.Draft7Validator(wrapped)
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        pytest.fail(f"payload does not match the vendor's schema at {where}: {first.message}")


_REFERENCED: dict[int, dict[str, Any]] = {}


def _referenced(key: int, spec: dict[str, Any]) -> dict[str, Any]:
    """The parts of ``spec`` a local ``$ref`` may point into, converted once per spec."""
    if key not in _REFERENCED:
        _REFERENCED[key] = {
            part: _nullable(spec[part]) for part in ("definitions", "components") if part in spec
        }
    return _REFERENCED[key]


def _nullable(node: Any) -> Any:
    """A copy of ``node`` with OpenAPI's ``nullable: true`` as JSON Schema's null type."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.get("nullable") is True or out.get("x-nullable") is True:
        plain = {k: v for k, v in out.items() if k not in ("nullable", "x-nullable")}
        return {"anyOf": [plain, {"type": "null"}]}
    return out
