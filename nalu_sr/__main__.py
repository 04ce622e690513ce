"""``python -m nalu_sr`` runs the command line."""

import sys

from nalu_sr.cli import main

sys.exit(main())
