"""The shipped job handlers, one module per job type (registered in `jobs.registry`)."""
