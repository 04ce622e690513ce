"""Ground-truth symbolic regression (SRBench protocol) side by side with peer tools."""
