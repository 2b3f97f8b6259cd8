"""The official OCDS 1.1.5 schemas and the extensions the export declares, offline.

The release schema is the core schema with each declared extension's
release-schema.json merged in as a JSON Merge Patch (RFC 7386), in the order
declared, as OCDS tooling does; each extension URL must name a version (a tag
or a commit, never `master`) and have its copy in services/awards/ocds/.  The
package schema refers to the release schema by its `id` URL, which a
`referencing` registry maps to the merged schema: nothing is fetched."""

from __future__ import annotations

import csv
import json
import re
from functools import cache
from pathlib import Path

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

import services.awards

OCDS = Path(services.awards.__file__).parent / "ocds"
# Each extension the export may declare, by its repository, and where its copy is kept.
SHIPPED = {"ocds_lots_extension": "lots_extension", "ocds_techniques_extension": "techniques_extension"}
VERSIONED = re.compile(r"^https://raw\.githubusercontent\.com/open-contracting-extensions/(?P<repo>[\w-]+)/"
                       r"(?P<version>v\d+(\.\d+)+|[0-9a-f]{40})/extension\.json$")


def load(relative: str) -> dict:
    return json.loads((OCDS / relative).read_text())


def merge_patch(target, patch):
    """RFC 7386, as OCDS tooling applies an extension's release-schema.json."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def extension_folder(url: str) -> str:
    """The shipped copy of a declared extension; an unversioned or unshipped one fails the test."""
    found = VERSIONED.match(url)
    assert found, f"{url}: an extension is declared at a versioned URL (a tag or a commit), never master"
    assert found["repo"] in SHIPPED, f"{url}: the extension's schema is not shipped in services/awards/ocds"
    return SHIPPED[found["repo"]]


@cache
def release_schema(extensions: tuple[str, ...]) -> dict:
    schema = load("1.1.5/release-schema.json")
    for url in extensions:
        folder = extension_folder(url)
        for name in load(f"{folder}/extension.json")["schemas"]:
            if name == "release-schema.json":
                schema = merge_patch(schema, load(f"{folder}/{name}"))
    return schema


PACKAGE_SCHEMA = load("1.1.5/release-package-schema.json")


def _validator(package: dict) -> tuple[Draft4Validator, dict]:
    schema = release_schema(tuple(package.get("extensions", ())))
    registry = Registry().with_resources(
        (s["id"], Resource.from_contents(s, default_specification=DRAFT4)) for s in (schema, PACKAGE_SCHEMA))
    return Draft4Validator(PACKAGE_SCHEMA, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER), schema


def package_errors(package: dict) -> list[str]:
    validator, _ = _validator(package)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(package)]


def codelist(name: str, extensions: tuple[str, ...]) -> set[str]:
    for folder in ("1.1.5", *(extension_folder(url) for url in extensions)):
        path = OCDS / folder / "codelists" / name
        if path.exists():
            with path.open(newline="", encoding="utf-8") as f:
                return {row["Code"] for row in csv.DictReader(f)}
    raise AssertionError(f"codelist {name} is used but was not copied into services/awards/ocds")


def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema and schema["$ref"].startswith("#/definitions/"):
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _walk(schema: dict, value, path: str, root: dict, visit) -> list[str]:
    schema = _resolve(schema, root)
    problems = visit(schema, value, path)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                problems += _walk(properties[key], item, f"{path}/{key}", root, visit)
            else:
                problems += visit(None, item, f"{path}/{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            problems += _walk(schema["items"], item, f"{path}/{i}", root, visit)
    return problems


def codelist_problems(package: dict) -> list[str]:
    """Every value of a field with a codelist that is not in that codelist's CSV."""
    extensions = tuple(package.get("extensions", ()))
    root = release_schema(extensions)

    def visit(schema, value, path):
        if schema is None or "codelist" not in schema or value is None:
            return []
        codes = codelist(schema["codelist"], extensions)
        return [f"{path}: {v!r} not in {schema['codelist']}"
                for v in (value if isinstance(value, list) else [value]) if v not in codes]

    return [p for r in package["releases"] for p in _walk(root, r, r["ocid"], root, visit)]


def additional_fields(package: dict) -> list[str]:
    """Fields that neither OCDS nor a declared extension describes (as the Data Review Tool lists them): none,
    or an extension is used without being declared."""
    root = release_schema(tuple(package.get("extensions", ())))

    def visit(schema, value, path):
        return [path] if schema is None else []

    return [p for r in package["releases"] for p in _walk(root, r, r["ocid"], root, visit)]
