"""The one evidence builder (``build.build_evidence``): everything shown about a measure, decided once."""
