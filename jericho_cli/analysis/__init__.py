"""What a trained model's state holds (probe) and how much of it it needs (prune)."""
