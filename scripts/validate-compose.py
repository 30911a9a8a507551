#!/usr/bin/env python3
"""Validate docker-compose.yml against the Compose Specification JSON Schema.

No Docker engine runs in CI, so this is how the project proves its Compose file is valid.

Usage: scripts/validate-compose.py [SCHEMA]
  SCHEMA defaults to ../shared/data/compose-spec/compose-spec.json, relative to the repo root.

Requires: python3 -m pip install jsonschema pyyaml
Exit codes: 0 valid, 1 invalid (or unreadable), 2 bad usage / missing dependency.
"""
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DEFAULT_SCHEMA = REPO_ROOT / ".." / "shared" / "data" / "compose-spec" / "compose-spec.json"


def fail(message: str, code: int = 1):
    print(f"docker-compose.yml: {message}", file=sys.stderr)
    sys.exit(code)


def pick_validator(jsonschema, schema: dict):
    """The Compose schema declares "https://json-schema.org/draft-07/schema", which
    jsonschema does not recognise by that exact URI (it knows the http:// form), so choose
    the draft from the URI rather than fall back to the newest draft with a warning."""
    declared = str(schema.get("$schema", ""))
    for marker, cls in (
        ("draft-04", jsonschema.Draft4Validator),
        ("draft-06", jsonschema.Draft6Validator),
        ("draft-07", jsonschema.Draft7Validator),
        ("2019-09", jsonschema.Draft201909Validator),
        ("2020-12", jsonschema.Draft202012Validator),
    ):
        if marker in declared:
            return cls
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)


def main(argv: list) -> int:
    if len(argv) > 2:
        fail("usage: validate-compose.py [SCHEMA]", 2)
    try:
        import jsonschema
        import yaml
    except ImportError as exc:
        fail(f"missing dependency ({exc.name}); run: python3 -m pip install jsonschema pyyaml", 2)

    schema_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_SCHEMA
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot load schema {schema_path}: {exc}")

    try:
        document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())
        fail(f"cannot read YAML: {reason}")

    validator_cls = pick_validator(jsonschema, schema)
    try:
        validator_cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        fail(f"schema {schema_path} is not a valid JSON Schema: {' '.join(exc.message.split())}")
    validator = validator_cls(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        message = " ".join(first.message.split())
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        fail(f"invalid at {where}: {message}{more}")

    print("docker-compose.yml: valid against the Compose Specification")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
