"""Reads the nats-server configuration files of deploy/k8s (for check_manifests.py).

Only the subset of nats-server's syntax those files use, one item a line:
  key: value   key = value   key value        a scalar (quotes removed; kept a string)
  key { ... }                                 a block (a dict)
  key: [ a, b ] or key: [ one a line ]        an array of scalars (a list)
  # comment   // comment                      whole-line or after whitespace
Anything else (includes, nested arrays, several items a line) raises ValueError, so a file
outside the subset fails the check instead of being misread.
"""

import re

ITEM = re.compile(r"^([A-Za-z_][\w.-]*)\s*(?:[:=]\s*|\s+|$)(.*)$")
COMMENT = re.compile(r"(^|\s)(#|//).*$")
# nats-server's size suffixes: K, M, G, T are decimal (max_file_store: 1G is 10^9 bytes),
# KB/MB/GB/TB and Ki/Mi/Gi/Ti binary.
SIZES = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
         "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40,
         "KI": 2**10, "MI": 2**20, "GI": 2**30, "TI": 2**40}
DURATIONS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def _scalar(text):
    text = text.strip().rstrip(",").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _items(text):
    return [_scalar(v) for v in text.split(",") if v.strip()]


def parse_nats_conf(text):
    root, stack, array = {}, [], None
    current = root
    for number, raw in enumerate(text.splitlines(), 1):
        line = COMMENT.sub("", raw).strip()
        if not line:
            continue
        if array is not None:
            if line.endswith("]"):
                array += _items(line[:-1])
                array = None
            else:
                array += _items(line)
            continue
        if line == "}":
            if not stack:
                raise ValueError(f"line {number}: '}}' closes no block")
            current = stack.pop()
            continue
        match = ITEM.match(line)
        if not match:
            raise ValueError(f"line {number}: not a 'key: value' item: {line}")
        key, value = match.group(1), match.group(2).strip()
        if value == "{":
            stack.append(current)
            current[key] = {}
            current = current[key]
        elif value.startswith("["):
            inner = value[1:].strip()
            current[key] = []
            if inner.endswith("]"):
                current[key] += _items(inner[:-1])
            else:
                current[key] += _items(inner)
                array = current[key]
        elif "{" in value or "[" in value:
            raise ValueError(f"line {number}: more than one item on a line: {line}")
        else:
            current[key] = _scalar(value)
    if stack or array is not None:
        raise ValueError("a block or an array is not closed")
    return root


def nats_size(value):
    """Bytes of a size ("8388608", "8G", "512MB")."""
    match = re.match(r"^(\d+)\s*([A-Za-z]*)$", str(value).strip())
    if not match or match.group(2).upper() not in SIZES:
        raise ValueError(f"size '{value}' not understood")
    return int(match.group(1)) * SIZES[match.group(2).upper()]


def nats_duration(value):
    """Seconds of a duration ("30s", "2m", "1h30m")."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(value))
    if not parts or "".join(n + u for n, u in parts) != str(value).strip():
        raise ValueError(f"duration '{value}' not understood")
    return sum(float(n) * DURATIONS[u] for n, u in parts)
