"""The vendoring command's CRD reader, on templated manifests like the charts'."""

from __future__ import annotations

from tools.vendor_charts import crds_in

TEMPLATED = """{{- if .Values.crds.enabled }}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: "certificates.cert-manager.io"
spec:
  group: cert-manager.io
  names:
    kind: Certificate
    plural: certificates
{{- end }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-a-crd
spec:
  group: nothing
  names:
    kind: Nothing
"""


def test_reads_group_and_kind_of_each_crd_only():
    assert crds_in(TEMPLATED) == {"cert-manager.io/Certificate"}


def test_a_file_without_crds_has_none():
    assert crds_in("kind: Deployment\n") == set()
