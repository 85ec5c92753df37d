"""Component resources of the Monad Synapse stack, one concern per module."""
