"""Pass manager, textual pipelines, pattern rewriter, and one pass per module."""
