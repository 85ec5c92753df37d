"""The database: the in-cluster CloudNativePG clusters and pooler, how pods
reach either database, its NetworkPolicies, and dumps, drills and restores."""
