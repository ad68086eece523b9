"""Running popreg: the embedded single-machine stack, and the compose files for clusters."""
