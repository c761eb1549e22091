"""Analysis and judgement (分析研判): trends with year-on-year, hot-spot grids (Getis-Ord Gi*),
recurring places, slow and pushed-around types, data-driven suggestions, and the ledgers
(台账) the district keeps."""
