"""What watches the stack: data-store exporters, alert rules and their
catalog, alert routing, and the Grafana dashboards."""
