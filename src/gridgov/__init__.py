"""gridgov: grid-based urban governance (网格化城市管理) with street whistles (街道吹哨、部门报到)."""

__version__ = "0.1.0"
