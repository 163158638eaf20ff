"""Load and speed harnesses for Consilium; ``make bench`` runs them all."""
