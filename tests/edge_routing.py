"""Which rendered edge rule would serve a URL (pure): ingress-nginx's and the
Gateway API's path matching, on the rendered objects."""

from __future__ import annotations

from typing import Any, Optional


def _prefix_matches(prefix: str, path: str) -> bool:
    """Element-wise prefix match (Ingress pathType Prefix, Gateway PathPrefix)."""
    prefix = prefix.rstrip("/")
    return prefix == "" or path == prefix or path.startswith(prefix + "/")


def ingress_route(objects: dict[str, dict], host: str, path: str) -> Optional[tuple[dict, dict]]:
    """(Ingress, path entry) serving host+path: an Exact match first, then the
    longest Prefix, across every Ingress of the host (ingress-nginx merges
    them into one server block)."""
    candidates = []
    for obj in objects.values():
        if obj.get("kind") != "Ingress":
            continue
        for rule in obj["spec"].get("rules") or []:
            if rule.get("host") != host:
                continue
            for entry in rule["http"]["paths"]:
                kind, value = entry.get("pathType"), entry["path"]
                if kind == "Exact" and path == value:
                    candidates.append(((1, len(value)), obj, entry))
                elif kind == "Prefix" and _prefix_matches(value, path):
                    candidates.append(((0, len(value.rstrip("/"))), obj, entry))
    if not candidates:
        return None
    _, obj, entry = max(candidates, key=lambda candidate: candidate[0])
    return obj, entry


def http_route_rule(objects: dict[str, dict], host: str, path: str) -> Optional[tuple[dict, dict]]:
    """(HTTPRoute, rule) serving host+path: Exact before PathPrefix, then the
    longest prefix (Gateway API HTTPRouteRule precedence)."""
    candidates: list[tuple[Any, dict, dict]] = []
    for obj in objects.values():
        if obj.get("kind") != "HTTPRoute" or host not in (obj["spec"].get("hostnames") or []):
            continue
        if all(_redirects_to_https(rule) for rule in obj["spec"].get("rules") or []):
            continue  # the plain-HTTP listener's redirect route: never serves an https:// URL
        for rule in obj["spec"].get("rules") or []:
            for match in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
                kind, value = match["path"]["type"], match["path"]["value"]
                if kind == "Exact" and path == value:
                    candidates.append(((1, len(value)), obj, rule))
                elif kind == "PathPrefix" and _prefix_matches(value, path):
                    candidates.append(((0, len(value.rstrip("/"))), obj, rule))
    if not candidates:
        return None
    _, obj, rule = max(candidates, key=lambda candidate: candidate[0])
    return obj, rule


def _redirects_to_https(rule: dict) -> bool:
    return any(
        item.get("type") == "RequestRedirect" and item["requestRedirect"].get("scheme") == "https"
        for item in rule.get("filters") or []
    )


def gateway_answer(objects: dict[str, dict], host: str, path: str) -> Any:
    """What the Gateway does with https://host+path: the backend Service it
    forwards to, the status of a direct response (Envoy Gateway's
    HTTPRouteFilter), or 500 for a rule with neither, which the Gateway API
    requires (HTTPRouteRule.backendRefs, gateway-api apis/v1/httproute_types.go)."""
    found = http_route_rule(objects, host, path)
    if found is None:
        return 404
    route, rule = found
    if rule.get("backendRefs"):
        return rule["backendRefs"][0]["name"]
    for item in rule.get("filters") or []:
        reference = item.get("extensionRef") if item.get("type") == "ExtensionRef" else None
        if reference and reference.get("kind") == "HTTPRouteFilter":
            namespace = route["metadata"]["namespace"]
            response = objects[f"HTTPRouteFilter/{namespace}/{reference['name']}"]["spec"].get("directResponse")
            if response:
                return response.get("statusCode", 200)
    return 500
