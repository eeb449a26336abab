"""The desk: a small live reference client of the public contract, served at `/`."""
