import sys

from eyespy_live.commands.main import main

sys.exit(main())
