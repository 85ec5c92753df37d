"""Component resources of the Monad Synapse stack, by area (each area changes
together, and its components' type tokens are `monad:<area>:<Component>`):

    common         labels, names, pod security, egress rules, script Jobs: what every area builds with
    platform       the provider, the namespace, its default-deny NetworkPolicies
    app            the app's config, pods, blue/green colors and the checks that gate a switch
    edge           the public edge: certificate, routes, TLS and rate limits
    data           the database (external or CloudNativePG), its access, network and backups
    observability  exporters, alert rules, alert routing and dashboards

An area imports `common` and the settings, and another area only through
that area's declared outputs (passed in by `__main__.py`).
"""
