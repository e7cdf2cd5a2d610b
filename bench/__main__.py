"""``python -m bench``: the key benchmark, then the credential benchmark."""

import sys

from bench.credentials import main as credentials_main
from bench.keys import main as keys_main

status = keys_main(sys.argv[1:])
print()
status = status or credentials_main([])
raise SystemExit(status)
