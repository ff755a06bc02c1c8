"""`qgov org scan`: every repository of an organisation scanned as one Dask task each.

``sources`` reads the list of repositories (credentials stripped before anything else sees
a URL), ``clone`` fetches a shallow clone with hardened git under a time budget, ``task`` is
what a Dask worker runs for one repository, ``run`` drives the tasks on a local or remote
Dask cluster and writes each result as it arrives. Dask is imported only by ``run``.
"""
