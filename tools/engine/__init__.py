"""The offline engine: what stands in for the Pulumi CLI, the engine, the
provider and the cluster when none can run.

    stack_file, stack_config      a stack's config as the CLI reads and assembles it
    mock_engine                   the real program under Pulumi's mock engine
    provider_rules                how pulumi-kubernetes diffs: replace, delete-first
    replay, live                  `pulumi up` replayed against a model of the cluster
    admission, schemas            what the API server and the operators' webhooks refuse
    network_policy, operator_pods what a CNI allows, between the pods the operators create
    operator_rollouts             what makes CloudNativePG restart a cluster's instances
    exporter_metrics              the metric names exporters really expose

Each model cites the upstream source it follows. Nothing here imports the
Pulumi SDK at import time except `mock_engine`; the user commands live one
level up, in `tools/`.
"""
