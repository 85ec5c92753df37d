"""Building blocks every area uses: labels and metadata, the shared names
(vocabulary), Pod Security restricted contexts, egress rules, and the
one-shot script Jobs."""
