"""Several target workspaces of an Enterprise Grid org: which team goes where (workspaces.py)
and one runner per workspace, side by side (fanout.py)."""
