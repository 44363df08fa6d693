"""Helper programs the tests start as subprocesses."""
