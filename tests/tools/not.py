"""`not CMD...`: succeed only when CMD fails (lit's `not`); CMD's output passes through."""
import subprocess
import sys

sys.exit(0 if subprocess.run(sys.argv[1:]).returncode != 0 else 1)
