"""The lifecycles of deploys, runs and loops: each record's allowed status moves, written once.

Every status change of a Deploy, a TestRun or a Loop goes through ``deploys``, ``runs`` or
``loops`` here (a test greps the code for status writes elsewhere). See ``machine`` for how a
move is made.
"""
