"""The platform project: the cluster add-ons the app relies on, installed from pinned charts."""
