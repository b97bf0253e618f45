import sys

from eyespy_live.cli import main

sys.exit(main())
