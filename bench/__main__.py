"""``python -m bench``: key, credential, SD-JWT, registry and log benchmarks."""

import sys

from bench.credentials import main as credentials_main
from bench.keys import main as keys_main
from bench.registry import main as registry_main
from bench.sd_jwt import main as sd_jwt_main
from bench.transparency import main as transparency_main

status = keys_main(sys.argv[1:])
print()
status = status or credentials_main([])
print()
status = status or sd_jwt_main([])
print()
status = status or registry_main([])
print()
status = status or transparency_main([])
raise SystemExit(status)
