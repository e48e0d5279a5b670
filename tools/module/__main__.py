import sys

from tools.module.cli import main

sys.exit(main())
