"""One module per namespace; loaded on first use."""
