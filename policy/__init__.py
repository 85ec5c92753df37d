"""Policy pack (Pulumi CrossGuard): `pulumi preview --policy-pack policy`."""
