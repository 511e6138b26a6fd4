import sys

from lakehouse.wap.cli import main

sys.exit(main())
