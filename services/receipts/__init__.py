"""Signed receipts of submissions (UPP modelled on DOMAIN.md §8) and their public verification."""
