"""Blue/green workload: a Deployment, HPA, VPA and PDB per color, and the two
Services whose selectors are the traffic switch.

Design (see docs/operations.md, "Blue/green releases and rollback"):
* Both Deployments always exist and never set `spec.replicas` while an HPA
  manages them: the live color's HPA scales between the configured bounds, the
  idle color's HPA pins it to `idleReplicas` (warm standby). A switch therefore
  changes two Service selectors and two HPA specs and nothing in any pod
  template. It also avoids a server-side-apply trap: dropping `spec.replicas`
  that Pulumi owned makes the API server reset it to 1.
* Only a cold idle color (`idleReplicas: 0`) has no HPA; its Deployment then
  sets `replicas: 0`, applied with `pulumi.com/patchForce` because the HPA
  controller owned that field until then (server-side apply would refuse
  the change as a conflict otherwise). At 0 replicas the HPA controller stops
  scaling the Deployment, so the old HPA cannot undo it before Pulumi deletes it.
* Every Deployment says who owns its replica count
  (`monad-synapse.com/replicas-managed-by`); the policy pack checks it.
* Switch gate: the live Service moves only after a Job has seen the new live
  color with as many ready pods as the color serving now (scripts/switch_gate).
  HPAs are not awaited by pulumi-kubernetes, so without it a switch right
  after a scale-out would send live traffic to a color with fewer pods.
* Everything that follows live traffic (the preview Service, the old
  color's shrink to its standby size or to zero, and, in __main__, the
  live-color alerts) depends on the switch: the live Service and the
  verification Job. After a failed check nothing of it has moved, so the
  old color still serves at full size and the preview still shows the
  candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.app.app_config import AppConfiguration
from components.app.app_pod import app_pod_spec
from components.app.promotion import AnalysisSettings, analysis_job, promotion_support, verification_job
from components.app.switch_gate import GateTarget, ready_service_name, switch_gate_job
from components.common.labels import (
    COLOR_LABEL,
    INSTANCE_LABEL,
    common_labels,
    object_metadata,
    selector_labels,
)
from components.common.vocabulary import APP_NAME, APP_PORT, CONTAINER_NAME
from settings import COLORS, Autoscaling, Probes, Resources, Settings, SwitchGate

LIVE_SERVICE_NAME = APP_NAME
PREVIEW_SERVICE_NAME = f"{APP_NAME}-preview"
TRAFFIC_LABEL = "monad-synapse.com/traffic"
REPLICAS_OWNER_ANNOTATION = "monad-synapse.com/replicas-managed-by"
# pulumi-kubernetes: force server-side apply over field conflicts for this object.
PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")


def deployment_name(color: str) -> str:
    return f"{APP_NAME}-{color}"


def hpa_name(color: str) -> str:
    return f"{APP_NAME}-{color}-hpa"


def image_version(image: str) -> Optional[str]:
    """The tag of an image as an `app.kubernetes.io/version` label value, if it is one."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    tag = last.rsplit(":", 1)[1]
    return tag if _LABEL_VALUE.match(tag) else None


@dataclass(frozen=True)
class BlueGreenAppArgs:
    namespace: pulumi.Input[str]
    service_account_name: pulumi.Input[str]
    active_color: str
    images: Mapping[str, str]
    warm_idle_replicas: int
    autoscaling: Autoscaling
    resources: Resources
    vpa_update_mode: str
    config_map_name: pulumi.Input[str]
    # Each color's own ConfigMap (colors.<color>.appConfig), read after the shared one.
    color_config_map_names: Mapping[str, pulumi.Input[str]]
    secret_name: pulumi.Input[str]
    # Per color, pod template annotations whose change must roll its pods
    # (the checksums of its effective config and of the secret): what
    # `kubectl rollout restart` did by hand.
    rollout_annotations: Mapping[str, Mapping[str, pulumi.Input[str]]]
    # The promotion analysis of the color going live (None: none runs).
    analysis: Optional[AnalysisSettings] = None
    switch_gate: SwitchGate = SwitchGate()
    probes: Probes = Probes()
    # --max-old-space-size (settings.node_heap_mebibytes: the tighter of the
    # limit and the HPA's memory target).
    node_heap_mebibytes: int = 313
    priority_class_name: Optional[str] = None
    # Plain namespace and stack names, for DNS names and fix hints.
    namespace_name: str = "default"
    stack: str = "stack"
    # Env of the in-cluster database (DATABASE_URL to the pooler, built from
    # CloudNativePG's generated credentials; DATABASE_READ_URL): set after
    # envFrom, so it wins over the Secret.
    database_env: tuple = ()
    # What the pods need to exist before they roll (the in-cluster
    # database's Pooler behind DATABASE_URL).
    database_dependencies: tuple = ()

    @classmethod
    def for_stack(
        cls,
        settings: Settings,
        namespace: pulumi.Input[str],
        service_account_name: pulumi.Input[str],
        configuration: AppConfiguration,
        database_env: tuple = (),
        database_dependencies: tuple = (),
    ) -> BlueGreenAppArgs:
        """The colors as the stack's settings declare them, reading the
        namespace's and the configuration's outputs."""
        return cls(
            namespace=namespace,
            service_account_name=service_account_name,
            active_color=settings.active_color,
            images={color: settings.image_of(color) for color in COLORS},
            warm_idle_replicas=settings.warm_idle_replicas,
            autoscaling=settings.autoscaling,
            resources=settings.resources,
            vpa_update_mode=settings.vpa.update_mode,
            config_map_name=configuration.config_map_name,
            color_config_map_names=configuration.color_config_map_names,
            secret_name=configuration.secret_name,
            rollout_annotations=configuration.rollout_annotations(
                {color: getattr(settings.colors, color).restart for color in COLORS}
            ),
            switch_gate=settings.switch_gate,
            analysis=AnalysisSettings.of(settings),
            probes=settings.probes,
            node_heap_mebibytes=settings.node_heap_mebibytes,
            priority_class_name=settings.priority_class.name,
            namespace_name=settings.namespace,
            stack=settings.stack,
            database_env=database_env,
            database_dependencies=database_dependencies,
        )


class BlueGreenApp(pulumi.ComponentResource):
    """Two colors of the app and the Services that choose between them."""

    live_service_name: pulumi.Output[str]
    """Service `monad-synapse`: selects the active color."""
    preview_service_name: pulumi.Output[str]
    """Service `monad-synapse-preview`: selects the idle color."""
    deployment_names: pulumi.Output[Mapping[str, str]]
    """Deployment name of each color."""
    switched: list
    """The live Service (and the verification Job): what depends on these
    moves only after live traffic has moved to the active color."""

    def __init__(self, name: str, args: BlueGreenAppArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:app:BlueGreenApp", name, None, opts)
        active, idle = args.active_color, next(color for color in COLORS if color != args.active_color)
        cold_idle = args.warm_idle_replicas == 0

        deployments = {active: self._deployment(args, name, active, cold_idle=False)}
        if not cold_idle:
            deployments[idle] = self._deployment(args, name, idle, cold_idle=False)
        autoscalers = {
            active: self._hpa(
                args, name, active, deployments[active], args.autoscaling.min_replicas, args.autoscaling.max_replicas
            )
        }
        ready_services = {color: self._ready_service(args, name, color) for color in COLORS}

        # Traffic moves only once Pulumi's await logic has seen the active
        # color's Deployment fully rolled out and its HPA accepted, the gate
        # has seen it with as many ready pods as the color serving now, and
        # the analysis has judged it.
        live_needs = [deployments[active], autoscalers[active]]
        target = GateTarget(
            namespace=args.namespace,
            namespace_name=args.namespace_name,
            stack=args.stack,
            gate=args.switch_gate,
            min_replicas=args.autoscaling.min_replicas,
            max_replicas=args.autoscaling.max_replicas,
        )
        live_needs.append(
            switch_gate_job(self, f"{name}-switch-gate", target, active, idle, [*live_needs, *ready_services.values()])
        )
        promotion = args.analysis
        verification = None
        if promotion is not None and (promotion.analysis.enabled or promotion.verification.enabled):
            judged = promotion.target(args.namespace, args.namespace_name, active)
            support = promotion_support(self, f"{name}-analysis", judged)
            if promotion.analysis.enabled:
                live_needs.append(
                    analysis_job(
                        self,
                        f"{name}-analysis",
                        judged,
                        support,
                        promotion.skip_reason,
                        [*live_needs, *ready_services.values()],
                    )
                )
        live_service = self._service(args, name, "live", LIVE_SERVICE_NAME, active, depends_on=live_needs)
        switched: list[pulumi.Resource] = [live_service]
        if promotion is not None and promotion.verification.enabled:
            # After the switch: a bad window fails `pulumi up` (the workflow switches back).
            verification = verification_job(
                self,
                f"{name}-verification",
                judged,
                promotion.verification,
                support,
                promotion.skip_reason,
                [live_service],
            )
            switched.append(verification)

        # What follows live traffic waits for the switch to be done (and
        # verified): the old color keeps its capacity, the preview keeps
        # showing the candidate and the live-color alerts keep watching the
        # serving color until then. After a failed check none of it moves.
        if cold_idle:
            # replicas: 0 only once live traffic has left the color.
            deployments[idle] = self._deployment(args, name, idle, cold_idle=True, after=switched)
        preview_service = self._service(
            args, name, "preview", PREVIEW_SERVICE_NAME, idle, depends_on=[deployments[idle], *switched]
        )
        if not cold_idle:
            autoscalers[idle] = self._hpa(
                args, name, idle, deployments[idle], args.warm_idle_replicas, args.warm_idle_replicas, after=switched
            )

        for color in COLORS:
            self._pod_disruption_budget(args, name, color)
            self._vertical_pod_autoscaler(args, name, color, deployments[color])

        self.switched = switched
        self.live_service_name = live_service.metadata.name
        self.preview_service_name = preview_service.metadata.name
        self.deployment_names = pulumi.Output.from_input(
            {color: deployment.metadata.name for color, deployment in deployments.items()}
        )
        self.register_outputs(
            {
                "live_service_name": self.live_service_name,
                "preview_service_name": self.preview_service_name,
                "deployment_names": self.deployment_names,
            }
        )

    # --- children --------------------------------------------------------------

    def _child(self, depends_on: Optional[list] = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=depends_on)

    def _metadata(
        self,
        args: BlueGreenAppArgs,
        name: str,
        color: Optional[str] = None,
        extra: Optional[dict] = None,
        annotations: Optional[dict] = None,
    ):
        labels = common_labels("web") | ({COLOR_LABEL: color} if color else {}) | (extra or {})
        return object_metadata(name, args.namespace, labels, annotations)

    def _deployment(
        self, args: BlueGreenAppArgs, name: str, color: str, cold_idle: bool, after: Optional[list] = None
    ) -> k8s.apps.v1.Deployment:
        image = args.images[color]
        pod_labels = selector_labels(color) | common_labels("web") | {INSTANCE_LABEL: deployment_name(color)}
        version = image_version(image)
        if version:
            pod_labels["app.kubernetes.io/version"] = version
        # Who owns spec.replicas: the policy pack checks the HPA-managed ones
        # leave it unset. A cold idle color takes the field back from the HPA
        # controller, which server-side apply only allows when forced.
        annotations = (
            {REPLICAS_OWNER_ANNOTATION: "pulumi", PATCH_FORCE_ANNOTATION: "true"}
            if cold_idle
            else {REPLICAS_OWNER_ANNOTATION: f"HorizontalPodAutoscaler/{hpa_name(color)}"}
        )
        return k8s.apps.v1.Deployment(
            f"{name}-{color}-deployment",
            metadata=self._metadata(args, deployment_name(color), color, annotations=annotations),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                # Unset while an HPA owns the count, so `pulumi up` never fights it.
                replicas=0 if cold_idle else None,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(color)),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge="25%", max_unavailable=0),
                ),
                min_ready_seconds=5,
                progress_deadline_seconds=600,
                revision_history_limit=5,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=pod_labels, annotations=dict(args.rollout_annotations[color])
                    ),
                    spec=app_pod_spec(args, color, image),
                ),
            ),
            opts=self._child(depends_on=[*(after or []), *args.database_dependencies] or None),
        )

    def _hpa(
        self,
        args: BlueGreenAppArgs,
        name: str,
        color: str,
        deployment: k8s.apps.v1.Deployment,
        minimum: int,
        maximum: int,
        after: Optional[list] = None,
    ) -> k8s.autoscaling.v2.HorizontalPodAutoscaler:
        autoscaling = args.autoscaling
        utilization = lambda resource, percent: k8s.autoscaling.v2.MetricSpecArgs(  # noqa: E731
            type="Resource",
            resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                name=resource,
                target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=percent),
            ),
        )
        return k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-{color}-hpa",
            metadata=self._metadata(args, hpa_name(color), color),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
                ),
                min_replicas=minimum,
                max_replicas=maximum,
                metrics=[
                    utilization("cpu", autoscaling.cpu_utilization),
                    utilization("memory", autoscaling.memory_utilization),
                ],
                # Scale up fast (a traffic spike), down slowly (avoid flapping).
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_up=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=0,
                        select_policy="Max",
                        policies=[
                            k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Percent", value=100, period_seconds=15),
                            k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Pods", value=4, period_seconds=15),
                        ],
                    ),
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=300,
                        policies=[k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Percent", value=20, period_seconds=60)],
                    ),
                ),
            ),
            opts=self._child(depends_on=after),
        )

    def _service(
        self, args: BlueGreenAppArgs, name: str, role: str, service_name: str, color: str, depends_on: list
    ) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            f"{name}-{role}-service",
            metadata=self._metadata(args, service_name, extra={TRAFFIC_LABEL: role}),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector_labels(color),
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=80, target_port="http", protocol="TCP")],
            ),
            opts=self._child(depends_on=depends_on),
        )

    def _ready_service(self, args: BlueGreenAppArgs, name: str, color: str) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            f"{name}-{color}-ready-service",
            metadata=self._metadata(args, ready_service_name(color), color),
            spec=k8s.core.v1.ServiceSpecArgs(
                cluster_ip="None",
                selector=selector_labels(color),
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=APP_PORT, target_port="http", protocol="TCP")],
            ),
            opts=self._child(),
        )

    def _pod_disruption_budget(self, args: BlueGreenAppArgs, name: str, color: str) -> None:
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-{color}-pdb",
            metadata=self._metadata(args, f"{APP_NAME}-{color}-pdb", color),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                # One pod at a time whatever the HPA's current count: at the
                # minimum a drain keeps min-1 serving, and never blocks forever
                # the way minAvailable = minReplicas would.
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(color)),
                # A crash-looping pod must not block node drains.
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=self._child(),
        )

    def _vertical_pod_autoscaler(
        self, args: BlueGreenAppArgs, name: str, color: str, deployment: k8s.apps.v1.Deployment
    ) -> None:
        k8s.apiextensions.CustomResource(
            f"{name}-{color}-vpa",
            api_version="autoscaling.k8s.io/v1",
            kind="VerticalPodAutoscaler",
            metadata=self._metadata(args, f"{APP_NAME}-{color}-vpa", color),
            spec={
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment.metadata.name},
                "updatePolicy": {"updateMode": args.vpa_update_mode},
                "resourcePolicy": {
                    "containerPolicies": [
                        {
                            "containerName": CONTAINER_NAME,
                            "controlledResources": ["cpu", "memory"],
                            # Recommend requests only: limits (and the Node heap
                            # derived from them) stay what config says.
                            "controlledValues": "RequestsOnly",
                        }
                    ]
                },
            },
            opts=self._child(),
        )
