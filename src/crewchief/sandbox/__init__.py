"""The sandbox every worker's code runs in: bubblewrap, its probe, the network allowlist, git
metadata guarding."""
