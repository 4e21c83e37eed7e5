"""Core IR: types, attributes, values, operations, blocks, regions; printer, parser, verifier."""
