"""One module per phase of the step order; each a function of the world, the step and the levers."""
