"""The scorecard's screens: overview, team, map, sources, help and the export dialog."""
