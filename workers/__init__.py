"""Background work: audio analysis, similarity, the library scanner, and the demo loader."""
