"""The NALU paper's own experiments: Figure 1 and Table 1 (static and recurrent)."""
