"""Each task's script templates: Python that engine.exports writes out, not words of the app."""
