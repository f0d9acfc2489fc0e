"""``python -m protocol schema``: print the JSON Schema of the wire protocol."""

from __future__ import annotations

import json
import sys

from protocol.codec import json_schema


def main(argv: list[str]) -> int:
    if argv != ["schema"]:
        print("usage: python -m protocol schema", file=sys.stderr)
        return 2
    print(json.dumps(json_schema(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
