"""The ground every other area stands on: the Kubernetes provider, the
namespace (Pod Security, ServiceAccount, PriorityClass) and its
deny-by-default NetworkPolicies."""
