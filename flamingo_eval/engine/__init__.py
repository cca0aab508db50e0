"""The evaluation engine: settings and variants, the run loop, the results folder, scoring."""
