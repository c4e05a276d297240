"""``python -m chia``: the same as the ``chia`` command."""

from chia.cli.main import main

main()
