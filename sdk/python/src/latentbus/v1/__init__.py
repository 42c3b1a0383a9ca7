"""Generated protobuf and gRPC stubs of proto/latentbus/v1 (do not edit).

Regenerate with `python tools/gen_stubs.py` from sdk/python; tests/test_stubs.py checks
that these files match the .proto files.
"""
