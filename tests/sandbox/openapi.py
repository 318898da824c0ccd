"""HubSpot's OpenAPI files as validators: find the operation a request hit and check the response body
against that operation's schema for the status (or its `default`). The files are vendored beside this
module (hubspot-openapi/, with their source and commit), so a clone in any folder runs these tests."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson

SPEC_DIR = Path(__file__).resolve().parent / "hubspot-openapi"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    spec: str
    method: str
    path: str
    regex: re.Pattern[str]
    placeholders: int
    responses: dict[str, Any]


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return "T" in value

    @checker.checks("uuid", raises=ValueError)
    def _uuid(value: object) -> bool:
        return not isinstance(value, str) or bool(uuid.UUID(value))

    @checker.checks("int32")
    def _int32(value: object) -> bool:
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    return checker


class Specs:
    def __init__(self, directory: Path = SPEC_DIR) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.operations: list[Operation] = []
        for file in sorted(directory.glob("*.json")):
            document = orjson.loads(file.read_bytes())
            self.documents[file.stem] = document
            for path, item in document["paths"].items():
                pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
                for method in METHODS:
                    if method in item:
                        self.operations.append(
                            Operation(
                                file.stem,
                                method.upper(),
                                path,
                                re.compile(f"^{pattern}$"),
                                path.count("{"),
                                item[method]["responses"],
                            )
                        )
        self.checker = _format_checker()

    def operation(self, method: str, path: str) -> Operation | None:
        matches = [op for op in self.operations if op.method == method and op.regex.match(path)]
        return min(matches, key=lambda op: op.placeholders) if matches else None

    def schema_for(self, operation: Operation, status: int) -> dict[str, Any] | None:
        response = operation.responses.get(str(status)) or operation.responses.get("default")
        if response is None:
            raise AssertionError(f"{operation.method} {operation.path} documents no {status} and no default")
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[1]
            response = self.documents[operation.spec]["components"]["responses"][name]
        content = response.get("content") or {}
        media = content.get("application/json") or content.get("*/*")
        return None if media is None else media.get("schema")

    def validate(self, operation: Operation, status: int, body: bytes) -> None:
        schema = self.schema_for(operation, status)
        if schema is None:
            assert body == b"", f"{operation.method} {operation.path} {status} must have no body"
            return
        root = {**schema, "components": self.documents[operation.spec]["components"]}
        jsonschema.Draft4Validator(root, format_checker=self.checker).validate(orjson.loads(body))
