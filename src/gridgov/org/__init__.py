"""Organisation units: the tree of district centre, streets, communities, departments and bodies."""
