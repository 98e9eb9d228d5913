"""`python -m orgledger`: the same command line as the `orgledger` script."""

from orgledger.adapters.cli.main import main

main(prog_name="orgledger")
