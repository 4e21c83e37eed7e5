import sys

from mlir_coreml.cli import main

sys.exit(main())
