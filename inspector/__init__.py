"""The run inspector's data layer: episodes rolled out step by step, their frames and labels."""
