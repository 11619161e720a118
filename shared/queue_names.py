"""The reconcile queues' names and retry count, importable without any SDK (the queue triggers'
decorators need them when the host indexes the functions; host.json holds the same count)."""

RECONCILE_QUEUE = "pimwarden-reconcile"
POISON_QUEUE = f"{RECONCILE_QUEUE}-poison"  # the host's name for it: <queue>-poison
MAX_DEQUEUE_COUNT = 5  # host.json extensions.queues.maxDequeueCount (a test keeps them equal)
