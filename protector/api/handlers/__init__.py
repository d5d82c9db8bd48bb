"""One module per resource; one function per verb."""
