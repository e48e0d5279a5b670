import sys

from tools.cost import main

sys.exit(main())
