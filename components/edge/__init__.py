"""The public edge: the TLS certificate, and the routes, TLS policy and rate
limits of the chosen edge (`edge.kind`)."""
