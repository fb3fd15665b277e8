"""``python -m learning.cli``: the ``learning`` command."""

from learning.cli import main

main()
