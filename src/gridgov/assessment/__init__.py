"""Monthly assessment (考核) of departments, streets and utilities: indicators traceable to
their cases, configurable weights, a composite score and ranking, published versions."""
