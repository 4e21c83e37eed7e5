"""Readers for every Core ML form, each producing IR in the format's own dialect."""
