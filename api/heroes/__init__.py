"""The heroes domain: what a hero is (fields.py, schemas.py), how it is stored and found
(queries.py), what a request may say (params.py), the conditional-request rules (rules.py), and
the /heroes routes (routes.py)."""
