"""From verified patches to a moved branch: integration, the merge queue, the suite and its trust,
culprits, drift, landing groups, the human gate and the landing."""
