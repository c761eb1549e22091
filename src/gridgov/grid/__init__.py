"""Grid geometry: coordinate systems, grid codes, demo grid, import checks, point location."""
