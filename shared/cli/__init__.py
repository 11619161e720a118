"""The operator CLI: plan, apply, status, grant, revoke, register, deregister."""
