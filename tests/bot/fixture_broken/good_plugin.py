"""Loads fine."""
