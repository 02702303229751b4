"""The ``pipekit`` command line (also ``python -m pipekit``): the rules, in a terminal.

Subcommands, each with ``--help`` and an example:

- ``pipekit demo [--no-color]``: a tour of the rules on a fresh workspace held
  in memory; it writes no file.
- ``pipekit init FILE [--incoming] [--force]``: write a new workspace document.
- ``pipekit show FILE [--pipeline ID] [--leads] [--no-color]``: draw a pipeline
  (the main one by default) as a board.
- ``pipekit apply FILE [COMMANDS] [--dry-run] [--at TIME]``: apply JSON commands,
  one a line, read from COMMANDS or standard input, and save FILE.
- ``pipekit check FILE``: check that FILE is a valid workspace document.
- ``pipekit import-kommo KOMMO.json -o FILE [--force]``: write the workspace a
  Kommo API v4 pipelines body describes.
- ``pipekit plan FILE DESIRED [--pipeline ID]``: print the commands, ready for
  ``apply``, that turn a pipeline of FILE into the one the TOML file DESIRED
  describes. ``pipekit plan --help`` shows the file's format; the guide
  "Plan changes from a TOML file" (``docs/toml-plan.md``) explains it in full.
- ``pipekit automations FILE [--no-color]``: list the automations of FILE, under
  each stage they watch.
- ``pipekit due FILE [--at TIME]``: list the scheduled actions due at TIME, and
  count those handed over to the host; it writes nothing.

A workspace document is the JSON of :func:`pipekit.codec.dump`, with sorted keys,
indented by two spaces, in UTF-8. pipekit writes one by replacing the file in a
single step (a temporary file in the same directory, then a rename), so a crash
never leaves half a document; ``init`` and ``import-kommo`` refuse to replace a
file that exists unless given ``--force``, and a run of ``apply`` that changes
nothing leaves FILE as it was. Colour is used only when standard output is a
terminal, ``NO_COLOR`` is unset or empty, and ``--no-color`` is not given.

Exit codes: 0 on success; 1 for a refused command, a bad document or a file that
cannot be read or written; 2 for a usage error, and for ``pipekit`` alone, which
prints the help; 130 when interrupted before any file was changed. Once a file is
renamed into place, Ctrl-C no longer stops the run: it finishes and reports
success, so 130 always means that nothing was written. Every error is a single
line on standard error, starting ``pipekit``.

JSON texts (workspace documents, commands, Kommo bodies) are read strictly: a key
given twice in one object is refused, not settled by keeping the last.
"""

from pipekit.cli._main import main

__all__ = ["main"]
