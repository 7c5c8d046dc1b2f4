"""The live-blog domain: commands, events, state folded from streams, and pure decisions."""
