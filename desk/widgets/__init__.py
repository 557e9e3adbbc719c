"""The desk's panes and the small widgets they are built from."""
