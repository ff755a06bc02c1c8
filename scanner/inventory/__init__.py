"""Which quantum providers the scanned code uses: the provider table (``providers.yaml``),
the fact finders that read each kind of file in the workers (``finders``, with the Python
and text recognisers), the inventory built from their facts (``build``) and its checks
against the organisation policy (``checks``), which run in the parent."""
