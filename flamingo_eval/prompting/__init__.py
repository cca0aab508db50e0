"""Few-shot prompts: choosing demonstrations, rendering them with the query, cleaning up outputs."""
