"""The `orgledger` command line (click): serve, check, projections, audit."""
