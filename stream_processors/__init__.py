"""Process: faust-streaming workers that consume the vital-events log into the projections."""
