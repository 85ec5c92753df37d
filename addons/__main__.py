"""The platform add-ons of one cluster: settings in, the pinned charts installed in order, what the app needs out."""

import sys
from pathlib import Path

# Pulumi runs this file from addons/; the shared names live at the repository's root.
REPOSITORY = str(Path(__file__).resolve().parents[1])
if REPOSITORY not in sys.path:
    sys.path.insert(0, REPOSITORY)

import pulumi  # noqa: E402

from addons.install import AddonsArgs, PlatformAddons  # noqa: E402
from addons.settings import read  # noqa: E402

# Every key is checked first: a bad value stops the program before any resource exists.
settings = read(pulumi.get_stack())

addons = PlatformAddons("platform", AddonsArgs(settings=settings))

pulumi.export("chartVersions", addons.chart_versions)
pulumi.export("clusterIssuer", addons.cluster_issuer)
pulumi.export("gatewayClass", addons.gateway_class)
