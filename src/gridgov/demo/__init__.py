"""The Dongcheng demo: organisation, accounts (and, as features land, grid, catalog, cases)."""
